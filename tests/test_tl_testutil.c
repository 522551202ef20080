/* The tests' response reader (tests/tl_testutil): a response larger than
 * any fixed buffer (/stats at 1,000 threads is megabytes) is read whole,
 * and the one pipelined behind it is still there afterwards. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tl_check.h"
#include "tl_testutil.h"

#define BIG (3u * 1024 * 1024)

typedef struct {
  int fd;
  char *bytes;
  size_t len;
} writer;

static void *write_all(void *arg) {
  writer *w = arg;
  tl_send_all(w->fd, w->bytes, w->len);
  return NULL;
}

START_TEST(reads_a_response_of_megabytes) {
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  /* Two responses back to back: 3 MiB of text, then a small one. */
  char head[128];
  int hl = snprintf(head, sizeof(head),
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    "Content-Length: %u\r\n\r\n",
                    BIG);
  static const char small[] =
      "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
  size_t len = (size_t) hl + BIG + sizeof(small) - 1;
  char *bytes = malloc(len);
  memcpy(bytes, head, (size_t) hl);
  for (size_t i = 0; i < BIG; i++)
    bytes[(size_t) hl + i] = (char) ('a' + i % 26);
  memcpy(bytes + hl + BIG, small, sizeof(small) - 1);
  writer w = {sv[1], bytes, len};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, write_all, &w), 0);

  tl_resp r;
  ck_assert_int_eq(tl_read_resp(sv[0], &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, BIG);
  ck_assert(memcmp(r.body, bytes + hl, BIG) == 0);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_read_resp(sv[0], &r, false), 0);
  ck_assert_int_eq(r.status, 204);
  tl_resp_free(&r);

  pthread_join(th, NULL);
  free(bytes);
  tl_close(sv[0]);
  close(sv[1]);
}
END_TEST

TL_CHECK_MAIN("tl_testutil", reads_a_response_of_megabytes)
