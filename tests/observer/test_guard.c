/* Unit tests: the observer's guard: which Host and Origin values name the
 * observer, and what a POST must carry. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "tl_check.h"
#include "observer/guard.h"

typedef struct {
  tl_request r;
  tl_req_headers h;
} req;

/* A request with the given header values (NULL: absent). */
static void make(req *q, int minor, const char *host, const char *origin,
                 const char *xtl, const char *ctype) {
  memset(q, 0, sizeof(*q));
  q->r.method = HTTP_POST;
  q->r.http_major = 1;
  q->r.http_minor = (uint8_t) minor;
  q->r.headers = &q->h;
  const char *v[TL_HDR_COUNT] = {[TL_HDR_HOST] = host,
                                 [TL_HDR_ORIGIN] = origin,
                                 [TL_HDR_X_THREADLAB] = xtl,
                                 [TL_HDR_CONTENT_TYPE] = ctype};
  for (int i = 0; i < TL_HDR_COUNT; i++) {
    q->h.len[i] = v[i] ? (int16_t) strlen(v[i]) : TL_HDR_ABSENT;
    if (v[i])
      strcpy(q->h.val[i], v[i]);
  }
}

static int host(const tl_guard_site *s, const char *h) {
  req q;
  const char *why = NULL;
  make(&q, 1, h, NULL, NULL, NULL);
  int st = tl_guard_host(s, &q.r, &why);
  ck_assert(st == 0 || why != NULL);
  return st;
}

static int post(const tl_guard_site *s, const char *origin, const char *xtl,
                const char *ctype) {
  req q;
  const char *why = NULL;
  make(&q, 1, "127.0.0.1:8081", origin, xtl, ctype);
  int st = tl_guard_post(s, &q.r, &why);
  ck_assert(st == 0 || why != NULL);
  return st;
}

START_TEST(guard_host_names_the_observer) {
  tl_guard_site s = {.bound_host = "127.0.0.1", .port = 8081};
  const char *good[] = {"127.0.0.1",      "127.0.0.1:8081",
                        "127.9.8.7:8081", "localhost",
                        "LocalHost:8081", "[::1]",
                        "[::1]:8081",     "[::ffff:127.0.0.1]:8081"};
  for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
    ck_assert_msg(host(&s, good[i]) == 0, "Host %s refused", good[i]);
  const char *foreign[] = {"evil.example",
                           "evil.example:8081",
                           "127.0.0.1:8080",
                           "localhost:80",
                           "localhost.evil.example",
                           "127.1",
                           "0177.0.0.1",
                           "10.0.0.5:8081",
                           "[::2]:8081",
                           "",
                           "127.0.0.1:",
                           "127.0.0.1:8081x",
                           "127.0.0.1:99999",
                           "[::1",
                           "::1",
                           "a b",
                           "127.0.0.1@evil.example"};
  for (size_t i = 0; i < sizeof(foreign) / sizeof(*foreign); i++)
    ck_assert_msg(host(&s, foreign[i]) == 421, "Host '%s' not 421", foreign[i]);
}
END_TEST

START_TEST(guard_host_bound_and_local_address) {
  /* Bound to one address: that one, with or without the port. */
  tl_guard_site s = {.bound_host = "10.1.2.3", .port = 9000};
  ck_assert_int_eq(host(&s, "10.1.2.3"), 0);
  ck_assert_int_eq(host(&s, "10.1.2.3:9000"), 0);
  ck_assert_int_eq(host(&s, "10.1.2.3:9001"), 421);
  ck_assert_int_eq(host(&s, "10.1.2.4:9000"), 421);
  /* Bound to every address: the one this connection reached. */
  struct sockaddr_in6 local = {.sin6_family = AF_INET6};
  ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:192.168.1.7", &local.sin6_addr),
                   1);
  tl_guard_site any = {.bound_host = "::",
                       .port = 9000,
                       .local = (const struct sockaddr *) &local};
  ck_assert_int_eq(host(&any, "192.168.1.7:9000"), 0);
  ck_assert_int_eq(host(&any, "192.168.1.8:9000"), 421);
  ck_assert_int_eq(host(&any, "[::]:9000"), 0);
  ck_assert_int_eq(host(&any, "myhost.lan:9000"), 421);
}
END_TEST

START_TEST(guard_host_missing_or_repeated) {
  tl_guard_site s = {.bound_host = "127.0.0.1", .port = 8081};
  req q;
  const char *why = NULL;
  make(&q, 0, NULL, NULL, NULL, NULL);
  ck_assert_int_eq(tl_guard_host(&s, &q.r, &why), 0); /* HTTP/1.0 */
  make(&q, 1, NULL, NULL, NULL, NULL);
  ck_assert_int_eq(tl_guard_host(&s, &q.r, &why), 400);
  make(&q, 1, "127.0.0.1", NULL, NULL, NULL);
  q.h.len[TL_HDR_HOST] = TL_HDR_UNUSABLE;
  ck_assert_int_eq(tl_guard_host(&s, &q.r, &why), 400);
}
END_TEST

START_TEST(guard_post_needs_origin_and_header) {
  tl_guard_site s = {.bound_host = "127.0.0.1", .port = 8081};
  /* What the dashboard and curl send. */
  ck_assert_int_eq(post(&s, "http://127.0.0.1:8081", "1", NULL), 0);
  ck_assert_int_eq(post(&s, "http://localhost:8081", "1", NULL), 0);
  ck_assert_int_eq(post(&s, "HTTP://[::1]:8081", "1", NULL), 0);
  ck_assert_int_eq(post(&s, NULL, "1", NULL), 0);
  ck_assert_int_eq(post(&s, NULL, NULL, "application/json"), 0);
  ck_assert_int_eq(post(&s, NULL, NULL, "Application/JSON ; charset=utf-8"), 0);
  /* Foreign origins, whatever else they send. */
  const char *foreign[] = {"http://evil.example",
                           "http://127.0.0.1:8080",
                           "http://127.0.0.1",
                           "https://127.0.0.1:8081",
                           "null",
                           "http://127.0.0.1:8081/",
                           "http://evil.example:8081",
                           "http://127.0.0.1:8081.evil.example",
                           ""};
  for (size_t i = 0; i < sizeof(foreign) / sizeof(*foreign); i++)
    ck_assert_msg(post(&s, foreign[i], "1", "application/json") == 403,
                  "Origin '%s' accepted", foreign[i]);
  /* What a cross-site form can send. */
  ck_assert_int_eq(post(&s, NULL, NULL, NULL), 403);
  ck_assert_int_eq(post(&s, "http://127.0.0.1:8081", NULL, NULL), 403);
  ck_assert_int_eq(post(&s, NULL, NULL, "application/x-www-form-urlencoded"),
                   403);
  ck_assert_int_eq(post(&s, NULL, NULL, "text/plain; application/json"), 403);
  ck_assert_int_eq(post(&s, NULL, NULL, "application/jsonx"), 403);
  ck_assert_int_eq(post(&s, NULL, "0", NULL), 403);
  ck_assert_int_eq(post(&s, NULL, "", NULL), 403);
  /* Port 80 is the default of an http origin. */
  tl_guard_site s80 = {.bound_host = "127.0.0.1", .port = 80};
  ck_assert_int_eq(post(&s80, "http://localhost", "1", NULL), 0);
}
END_TEST

/* An Origin the parser could not keep (sent twice, or longer than it
 * keeps) is not an absent one: a page that sends it is refused, even with
 * the header a form cannot send. */
START_TEST(guard_post_unusable_origin_refused) {
  tl_guard_site s = {.bound_host = "127.0.0.1", .port = 8081};
  req q;
  const char *why = NULL;
  make(&q, 1, "127.0.0.1:8081", "http://127.0.0.1:8081", "1",
       "application/json");
  ck_assert_int_eq(tl_guard_post(&s, &q.r, &why), 0);
  q.h.len[TL_HDR_ORIGIN] = TL_HDR_UNUSABLE;
  why = NULL;
  ck_assert_int_eq(tl_guard_post(&s, &q.r, &why), 403);
  ck_assert_ptr_nonnull(why);
  ck_assert_ptr_nonnull(strstr(why, "Origin"));
}
END_TEST

START_TEST(guard_loopback_peers) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  struct sockaddr_in6 b = {.sin6_family = AF_INET6};
  inet_pton(AF_INET, "127.255.0.9", &a.sin_addr);
  ck_assert(tl_guard_is_loopback((struct sockaddr *) &a));
  inet_pton(AF_INET, "128.0.0.1", &a.sin_addr);
  ck_assert(!tl_guard_is_loopback((struct sockaddr *) &a));
  inet_pton(AF_INET6, "::1", &b.sin6_addr);
  ck_assert(tl_guard_is_loopback((struct sockaddr *) &b));
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &b.sin6_addr);
  ck_assert(tl_guard_is_loopback((struct sockaddr *) &b));
  inet_pton(AF_INET6, "fe80::1", &b.sin6_addr);
  ck_assert(!tl_guard_is_loopback((struct sockaddr *) &b));
}
END_TEST

TL_CHECK_MAIN("guard", guard_host_names_the_observer,
              guard_host_bound_and_local_address,
              guard_host_missing_or_repeated,
              guard_post_needs_origin_and_header,
              guard_post_unusable_origin_refused, guard_loopback_peers)
