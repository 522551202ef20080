/* Allocation-free parsers for Linux /proc text (any thread; the sampler
 * runs them on the observer thread). The readers are procfs_read.h. CPU
 * lists (Cpus_allowed_list) are base/cpulist.h.
 *
 * Contract shared by every tl_procfs_parse_* function:
 *  - buf/len is the complete text of one file as read from /proc. It need not
 *    be NUL-terminated; nothing beyond buf[len - 1] is ever read.
 *  - The kernel ends every line with '\n'. A line (or, for stat/schedstat, a
 *    number) that runs into the end of the buffer is treated as cut off and
 *    ignored, so a truncated read can never yield a wrong figure: it yields an
 *    error, or success with that figure marked absent.
 *  - Returns 0 on success, -EINVAL for malformed input (including a required
 *    figure that is missing), -ERANGE for a number that overflows its field.
 *    On error *out is left in an unspecified but safe state.
 *  - No malloc, no stdio, no locale: safe to call from any thread, a few
 *    microseconds per file.
 *  - Keys marked has_x may legitimately be absent (kernel threads, kernel
 *    config); absence is not an error and the value is then 0. Show it as
 *    null / "n/a", never as 0.
 *
 * Units are those of the kernel and are named in the field: _ticks are
 * USER_HZ clock ticks (sysconf(_SC_CLK_TCK), 100 here), _pages are pages
 * (sysconf(_SC_PAGESIZE)), _kb are KiB, _ns nanoseconds.
 */
#ifndef TL_OBSERVER_PROCFS_H
#define TL_OBSERVER_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TL_PROCFS_MAX_CPUS    256 /* per-core slots in tl_procfs_sysstat */
#define TL_PROCFS_NAME_MAX    64  /* comm/Name buffer incl. NUL */
#define TL_PROCFS_CPULIST_MAX 256 /* Cpus_allowed_list buffer incl. NUL */

/* /proc/self/stat, /proc/self/task/TID/stat (one line, see proc(5)).
 * comm may contain spaces, parentheses and even newlines, so the name is
 * everything between the first '(' and the LAST ')'. Fields 1..24 are
 * required; field 39 is optional. */
typedef struct {
  int pid; /* field 1 (the TID for a task file) */
  char comm
      [TL_PROCFS_NAME_MAX]; /* field 2, raw bytes, NUL-terminated, cut to 63 */
  char state;               /* field 3: R S D T t X Z P I ... */
  uint64_t utime_ticks;     /* field 14, USER_HZ ticks */
  uint64_t stime_ticks;     /* field 15, USER_HZ ticks */
  long num_threads;         /* field 20 */
  uint64_t starttime_ticks; /* field 22, ticks after boot */
  uint64_t rss_pages;       /* field 24, pages */
  int processor;            /* field 39: last core it ran on, -1 if absent */
} tl_procfs_stat;
int tl_procfs_parse_stat(const char *buf, size_t len, tl_procfs_stat *out);

/* /proc/self/statm: "size resident shared text lib data dt\n", in pages;
 * the first two are required. Resident is the counter status prints as
 * VmRSS. */
typedef struct {
  uint64_t size_pages;     /* field 1: total program size */
  uint64_t resident_pages; /* field 2: resident set */
} tl_procfs_statm;
int tl_procfs_parse_statm(const char *buf, size_t len, tl_procfs_statm *out);

/* /proc/.../status: only the keys we use. Name and State are always printed
 * by the kernel and are required (-EINVAL otherwise); the rest are optional.
 * Kernel threads have no VmRSS. */
typedef struct {
  char name
      [TL_PROCFS_NAME_MAX]; /* "Name:", kernel-escaped (\n -> "\\n"), cut to 63 */
  char state;               /* "State:" letter */
  int has_threads;
  long threads; /* "Threads:" */
  int has_vmrss;
  uint64_t vmrss_kb;          /* "VmRSS:" in KiB */
  int has_ctxt;               /* set only when both keys are present */
  uint64_t voluntary_ctxt;    /* "voluntary_ctxt_switches:" */
  uint64_t nonvoluntary_ctxt; /* "nonvoluntary_ctxt_switches:" */
  int has_cpus_allowed;       /* 0 also when the list does not fit */
  char cpus_allowed_list
      [TL_PROCFS_CPULIST_MAX]; /* "Cpus_allowed_list:", e.g. "0-1" */
} tl_procfs_status;
int tl_procfs_parse_status(const char *buf, size_t len, tl_procfs_status *out);

/* /proc/.../schedstat: "oncpu_ns runq_wait_ns timeslices\n", all required.
 * Some kernels leave runq_wait_ns (run_delay) at 0 unless their scheduler
 * accounting is on; 6.18 keeps it with kernel.task_delayacct=0. Whether to
 * trust it is the caller's decision (observer/schedstat_probe.h measures it). */
typedef struct {
  uint64_t oncpu_ns;     /* time spent on the CPU, ns */
  uint64_t runq_wait_ns; /* time spent runnable waiting on a run queue, ns */
  uint64_t timeslices;   /* number of times it was run on a CPU */
} tl_procfs_schedstat;
int tl_procfs_parse_schedstat(const char *buf, size_t len,
                              tl_procfs_schedstat *out);

/* /proc/.../sched: a "comm (pid, #threads: n)" header, a line of dashes, then
 * "key : value" lines. Only lines after the dash line are read (the header
 * holds the task name, which could imitate a key), so the dash line is
 * required. Time values print as milliseconds with six decimals (ns) and are
 * converted exactly, without floating point. */
typedef struct {
  int has_migrations;
  uint64_t nr_migrations;           /* se.nr_migrations */
  int has_switches;                 /* set only when all three are present */
  uint64_t nr_switches;             /* nr_switches */
  uint64_t nr_voluntary_switches;   /* nr_voluntary_switches */
  uint64_t nr_involuntary_switches; /* nr_involuntary_switches */
  int has_sum_exec;
  uint64_t sum_exec_runtime_ns; /* se.sum_exec_runtime, ns */
  int has_wait_sum;             /* only with CONFIG_SCHEDSTATS (absent here) */
  uint64_t wait_sum_ns; /* stats.wait_sum or se.statistics.wait_sum, ns */
} tl_procfs_sched;
int tl_procfs_parse_sched(const char *buf, size_t len, tl_procfs_sched *out);

/* /proc/stat: the aggregate "cpu" line (required), the per-core "cpuN" lines
 * (offline cores have none, so ids may have gaps) and "ctxt". Times are
 * USER_HZ ticks; the first eight columns are required, guest columns (already
 * included in user/nice) are ignored. The struct is ~17 KiB: keep it off
 * small stacks. */
typedef struct {
  uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
} tl_procfs_cpu_times;
typedef struct {
  int ncpu;         /* number of cpuN lines stored */
  int max_cpu_id;   /* highest N stored, -1 if none */
  int skipped_cpus; /* cpuN lines with N >= TL_PROCFS_MAX_CPUS (not stored) */
  tl_procfs_cpu_times total;                   /* the "cpu" line */
  tl_procfs_cpu_times cpu[TL_PROCFS_MAX_CPUS]; /* valid where present[N] */
  unsigned char present[TL_PROCFS_MAX_CPUS];
  int has_ctxt;
  uint64_t ctxt; /* context switches since boot, all CPUs */
} tl_procfs_sysstat;
int tl_procfs_parse_sysstat(const char *buf, size_t len,
                            tl_procfs_sysstat *out);

#ifdef __cplusplus
}
#endif

#endif /* TL_OBSERVER_PROCFS_H */
