/* Helpers for the integration tests: start the real threadlab binary on
 * ephemeral loopback ports, talk raw HTTP to it over sockets, stop it. */
#ifndef TL_TESTUTIL_H
#define TL_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tl_json.h"

typedef struct tl_proc {
  pid_t pid;
  int port;          /* workload */
  int admin_port;    /* observer */
  int out_fd;        /* its stdout (banner), kept open */
  char banner[2048]; /* its stdout up to both addresses, NUL-terminated */
} tl_proc;

/* Starts THREADLAB_BIN (or ./threadlab) with --port 0 --admin-port 0 plus
 * the given NULL-terminated extra arguments; waits for the banner. Aborts
 * the test on failure. */
/* The server binary: $THREADLAB_BIN, else ./threadlab. */
const char *tl_bin(void);
void tl_proc_start(tl_proc *p, const char *const *extra);
/* SIGTERM, wait up to timeout_ms; returns the exit status, or -1 if it had
 * to be killed. */
int tl_proc_stop(tl_proc *p, int timeout_ms);

/* Connects to 127.0.0.1:port with a receive timeout. */
int tl_connect(int port);
/* The machine's own first non-loopback IPv4 address (for a client the
 * observer must treat as foreign), or false. */
bool tl_own_address(char *out, size_t cap);
/* A connection to 127.0.0.1:port from source address src (15 s receive
 * timeout), or -1. */
int tl_connect_from(const char *src, int port);
void tl_send_all(int fd, const void *buf, size_t len);
void tl_send_str(int fd, const char *s);

typedef struct tl_resp {
  int status;
  char head[8192]; /* status line + headers, NUL-terminated */
  char *body;      /* malloc'd, NUL-terminated */
  size_t body_len;
  bool chunked;
} tl_resp;

/* Reads one response (Content-Length bodies; HEAD: pass head_only). Returns
 * 0, or -1 on EOF/timeout before a complete response. */
int tl_read_resp(int fd, tl_resp *r, bool head_only);
void tl_resp_free(tl_resp *r);
/* Case-insensitive header lookup into out; returns false if absent. */
bool tl_resp_find_header(const tl_resp *r, const char *name, char *out,
                         size_t cap);
/* One request on a fresh connection: send raw, read one response. */
int tl_roundtrip(int port, const char *raw, tl_resp *r);
/* GET path on a fresh connection; returns the status (or -1). */
int tl_get(int port, const char *path, tl_resp *r);
/* True if the peer closed the connection (EOF) within timeout_ms. */
bool tl_wait_eof(int fd, int timeout_ms);

double tl_now_s(void);

/* ---- additions for test_http ---------------------------------------- */
/* Waits (without signalling) up to timeout_ms for the process to exit;
 * returns its exit status as tl_proc_stop does, or -1 on timeout (the
 * process is then left running). */
int tl_proc_wait(tl_proc *p, int timeout_ms);
/* VmRSS of pid in KiB from /proc/PID/status, or -1. */
long tl_proc_rss_kb(pid_t pid);
/* utime+stime of the whole process pid (every thread), in seconds, from
 * /proc/PID/stat; -1 if unreadable. */
double tl_proc_cpu_s(pid_t pid);
/* Number of open descriptors of pid (entries of /proc/PID/fd), or -1. */
int tl_proc_fd_count(pid_t pid);
/* Closes fd and forgets its read-ahead (use instead of close() for fds
 * that tl_read_resp has read from). */
void tl_close(int fd);
/* Everything the peer still sends until EOF or timeout_ms: first the
 * read-ahead of tl_read_resp, then recv. Returns the bytes stored in buf
 * (NUL-terminated, at most cap-1); *eof tells whether EOF was seen. */
size_t tl_recv_rest(int fd, char *buf, size_t cap, int timeout_ms, bool *eof);

/* ---- set-up shared by the integration tests ---------------------------- */
/* GET path on a fresh connection (Connection: close): asserts the answer is
 * "HTTP/1.1 200", that nothing follows it before the close, and that its
 * body is JSON (tl_json, strict); the parsed tree (tj_release it). Bodies
 * of any size (tl_read_resp). */
tj *tl_get_json(int port, const char *path);
/* tl_get_json of the observer's /stats. */
tj *tl_get_stats(int admin_port);
/* The first /stats snapshot whose seq is above seq_after, waiting up to
 * 10 s (the sampler publishes a new one every --sample-ms); aborts the test
 * when none comes. */
tj *tl_stats_after(int admin_port, double seq_after);
/* The first /stats snapshot taken after this call (newer than the one
 * current now). */
tj *tl_fresh_stats(int admin_port);
/* Sends "GET path" on a new connection and returns it, the answer still
 * unread: several requests in flight from one client thread (these helpers
 * are not thread-safe: no second client thread). */
int tl_send_get(int port, const char *path);
/* Reads one complete answer on fd (asserted), closes fd (tl_close), and
 * returns the answer's status. */
int tl_read_status(int fd);
/* "GET path" on the keep-alive connection fd; asserts a complete 200. */
void tl_ask_ok(int fd, const char *path);
/* tl_ask_ok that also asserts an X-Pid header; returns that pid (the
 * process that answered, under --processes). */
int tl_ask_pid(int fd, const char *path);
/* Polls /stats every 20 ms, at most tries times, until path is there and
 * not null; whether it came. */
bool tl_wait_stats_set(int admin_port, const char *path, int tries);

#endif
