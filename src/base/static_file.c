#include "config.h"

#include "base/query.h"
#include "base/response.h"
#include "base/static_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

const char *tl_static_mime(const char *path) {
  static const struct {
    const char *ext, *type;
  } map[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".map", "application/json"},
  };
  const char *dot = strrchr(path, '.');
  const char *slash = strrchr(path, '/');
  if (dot && (!slash || dot > slash)) {
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
      if (strcasecmp(dot, map[i].ext) == 0)
        return map[i].type;
  }
  return "application/octet-stream";
}

int tl_static_open(int dirfd, const char *rel) {
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
  struct open_how how;
  memset(&how, 0, sizeof(how));
  /* O_NONBLOCK: opening a FIFO in the docroot must not block the thread
   * forever (it is then refused as not a regular file); regular file reads
   * ignore the flag. */
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
  if (fd >= 0)
    return (int) fd;
  if (errno != ENOSYS)
    return -errno;
#endif
  /* Old kernel: refuse symlinks anywhere on the path instead. */
  char buf[4096];
  if (strlen(rel) >= sizeof(buf))
    return -ENAMETOOLONG;
  strcpy(buf, rel);
  int cur = dup(dirfd);
  if (cur < 0)
    return -errno;
  char *save = NULL;
  char *seg = strtok_r(buf, "/", &save);
  while (seg) {
    char *next = strtok_r(NULL, "/", &save);
    int fd = openat(cur, seg,
                    (next ? O_DIRECTORY | O_PATH : O_RDONLY) | O_NOFOLLOW |
                        O_CLOEXEC | O_NONBLOCK);
    int err = errno;
    close(cur);
    if (fd < 0)
      return -err;
    cur = fd;
    seg = next;
  }
  return cur;
}

/* Decoded path checks: no empty name, no "." or ".." segment. */
static bool safe_relpath(const char *p) {
  if (*p == '/')
    return false;
  const char *s = p;
  while (*s) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t) (e - s) : strlen(s);
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
      return false;
    if (!e)
      break;
    s = e + 1;
  }
  return true;
}

static int answer_error(tl_buf *out, int status, const char *msg,
                        int http_minor, bool keep_alive, bool head) {
  tl_resp_error(out, status, msg, http_minor, keep_alive, head, "");
  return status;
}

int tl_static_respond(tl_buf *out, int dirfd, const char *raw, size_t len,
                      int http_minor, bool keep_alive, bool head) {
  char path[4096];
  int n = tl_percent_decode(raw, len, path, sizeof(path) - 16);
  if (n < 0)
    return answer_error(out, 400, "bad path encoding", http_minor, keep_alive,
                        head);
  if (!safe_relpath(path))
    return answer_error(out, 404, "not found", http_minor, keep_alive, head);
  if (n == 0 || path[n - 1] == '/')
    strcat(path, "index.html");
  int fd = tl_static_open(dirfd, path);
  struct stat st;
  const char *type_of = path; /* the name whose extension gives the type */
  if (fd >= 0 && fstat(fd, &st) != 0) {
    /* Never look at an unfilled st below. */
    close(fd);
    fd = -EIO;
  }
  if (fd >= 0 && S_ISDIR(st.st_mode)) {
    int dfd = fd;
    fd = tl_static_open(dfd, "index.html");
    close(dfd);
    /* "/static/sub" serves sub/index.html: text/html, not the type of
     * "sub" (application/octet-stream, which browsers download). */
    type_of = "index.html";
    if (fd >= 0 && fstat(fd, &st) != 0) {
      close(fd);
      fd = -EIO;
    }
  }
  if (fd < 0) {
    if (fd == -EACCES || fd == -EPERM)
      return answer_error(out, 403, "forbidden", http_minor, keep_alive, head);
    return answer_error(out, 404, "not found", http_minor, keep_alive, head);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return answer_error(out, 404, "not found", http_minor, keep_alive, head);
  }
  if ((uint64_t) st.st_size > TL_STATIC_MAX_FILE) {
    close(fd);
    return answer_error(out, 403, "file too large to serve", http_minor,
                        keep_alive, head);
  }
  size_t size = (size_t) st.st_size;
  tl_resp_begin(out, 200, http_minor, keep_alive);
  tl_buf_puts(out, "Cache-Control: no-cache\r\n");
  tl_resp_finish(out, tl_static_mime(type_of), NULL, size, true);
  if (!head) {
    size_t start = out->len;
    tl_buf_reserve(out, size);
    size_t got = 0;
    while (got < size) {
      ssize_t r = pread(fd, out->data + start + got, size - got, (off_t) got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (size_t) r;
    }
    if (got < size) {
      /* The file shrank or failed under us: answer an error instead. */
      close(fd);
      out->len = 0;
      return answer_error(out, 500, "file read failed", http_minor, false,
                          head);
    }
    out->len += size;
  }
  close(fd);
  return 200;
}
