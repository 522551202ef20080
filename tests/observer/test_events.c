/* The event log: bounded (the oldest forgotten), in order, control
 * changes found by comparing the state before and after (any key), and
 * load starts and ends from the request rate. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <string.h>

#include "observer/events.h"
#include "tl_json.h"

static const double T0 = 1.7e12;

START_TEST(bounded_and_in_order) {
  tl_events *ev = tl_events_init();
  ck_assert_int_eq(tl_events_count(ev), 0);
  char text[32];
  for (int i = 1; i <= TL_EVENTS_MAX + 50; i++) {
    snprintf(text, sizeof(text), "event %d", i);
    tl_events_add(ev, TL_EVENT_CONTROL, T0 + i, text);
  }
  ck_assert_int_eq(tl_events_count(ev), TL_EVENTS_MAX);
  for (int i = 0; i < TL_EVENTS_MAX; i++) {
    const tl_event *e = tl_events_at(ev, i);
    ck_assert_uint_eq(e->id, (uint64_t) (51 + i));
    snprintf(text, sizeof(text), "event %d", 51 + i);
    ck_assert_str_eq(e->text, text);
    ck_assert_double_eq(e->time_ms, T0 + 51 + i);
  }
  tl_events_close(ev);
}
END_TEST

START_TEST(control_diff_names_each_changed_key) {
  tl_events *ev = tl_events_init();
  int n = tl_events_control_diff(
      ev, T0,
      "{\"ok\":true,\"mode\":\"pool\",\"threads\":2,\"pinned\":false}\n",
      "{\"ok\":true,\"mode\":\"async\",\"threads\":2,\"pinned\":true}\n");
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(tl_events_count(ev), 2);
  const tl_event *a = tl_events_at(ev, 0), *b = tl_events_at(ev, 1);
  ck_assert_int_eq(a->kind, TL_EVENT_CONTROL);
  ck_assert_str_eq(a->key, "mode");
  ck_assert_str_eq(a->from, "pool");
  ck_assert_str_eq(a->to, "async");
  ck_assert_str_eq(a->text, "mode pool \u2192 async");
  ck_assert_double_eq(a->time_ms, T0);
  ck_assert_str_eq(b->key, "pinned");
  ck_assert_str_eq(b->text, "pinned false \u2192 true");
  /* A key this file has never heard of is an event too. */
  n = tl_events_control_diff(ev, T0 + 1, "{\"ok\":true,\"cpus\":\"0-1\"}",
                             "{\"ok\":true,\"cpus\":\"0\"}");
  ck_assert_int_eq(n, 1);
  ck_assert_str_eq(tl_events_at(ev, 2)->text, "cpus 0-1 \u2192 0");
  /* Nothing changed: no event. */
  n = tl_events_control_diff(ev, T0 + 2, "{\"ok\":true,\"threads\":4}",
                             "{\"ok\":true,\"threads\":4}");
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(tl_events_count(ev), 3);
  tl_events_close(ev);
}
END_TEST

/* Feeds `periods` periods of 100 ms at rps from time *t. */
static void feed(tl_events *ev, double *t, int periods, double rps) {
  for (int i = 0; i < periods; i++) {
    *t += 100;
    tl_events_observe_load(ev, *t, rps, 100);
  }
}

START_TEST(load_starts_and_ends) {
  tl_events *ev = tl_events_init();
  double t = T0;
  feed(ev, &t, 20, 0);
  ck_assert_int_eq(tl_events_count(ev), 0);
  /* one stray request (10 req/s for one 100 ms period) is not a load */
  feed(ev, &t, 1, 10);
  feed(ev, &t, 30, 0);
  ck_assert_int_eq(tl_events_count(ev), 0);
  double start = t + 100;
  feed(ev, &t, 30, 1830);
  ck_assert_int_eq(tl_events_count(ev), 1);
  const tl_event *e = tl_events_at(ev, 0);
  ck_assert_int_eq(e->kind, TL_EVENT_LOAD_START);
  ck_assert_double_eq(e->time_ms, start);
  ck_assert_str_eq(e->text, "load started: 1,830 req/s in its first period");
  /* a short pause inside the run is not an end */
  feed(ev, &t, 5, 0);
  feed(ev, &t, 10, 1830);
  ck_assert_int_eq(tl_events_count(ev), 1);
  double end = t;
  feed(ev, &t, 30, 0);
  ck_assert_int_eq(tl_events_count(ev), 2);
  e = tl_events_at(ev, 1);
  ck_assert_int_eq(e->kind, TL_EVENT_LOAD_END);
  ck_assert_double_eq_tol(e->time_ms, end, 1e-6);
  ck_assert_msg(strstr(e->text, "load ended") != NULL, "%s", e->text);
  /* 40 loaded periods x 0.1 s x 1830 req/s */
  ck_assert_msg(strstr(e->text, "7,320 requests") != NULL, "%s", e->text);
  /* and a new run is a new start */
  feed(ev, &t, 10, 500);
  ck_assert_int_eq(tl_events_count(ev), 3);
  ck_assert_int_eq(tl_events_at(ev, 2)->kind, TL_EVENT_LOAD_START);
  tl_events_close(ev);
}
END_TEST

START_TEST(renders_latest_as_json) {
  tl_events *ev = tl_events_init();
  tl_events_add(ev, TL_EVENT_LOAD_START, T0, "load started: 5 req/s");
  tl_events_control_diff(ev, T0 + 1, "{\"mode\":\"pool\"}",
                         "{\"mode\":\"coro\"}");
  tl_events_add(ev, TL_EVENT_LOAD_END, T0 + 2, "say \"bye\"");
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_events_render(ev, 2, &b);
  tj *j = tj_parse(b.data, b.len);
  ck_assert_msg(j != NULL, "not JSON: %s", b.data);
  ck_assert_uint_eq(j->n, 2);
  ck_assert_int_eq(tj_num(j, "0.id", -1), 2);
  ck_assert_str_eq(tj_str(j, "0.kind"), "control");
  ck_assert_str_eq(tj_str(j, "0.key"), "mode");
  ck_assert_str_eq(tj_str(j, "0.to"), "coro");
  ck_assert_double_eq(tj_num(j, "0.time_ms", -1), T0 + 1);
  ck_assert_str_eq(tj_str(j, "1.kind"), "load_end");
  ck_assert_str_eq(tj_str(j, "1.text"), "say \"bye\"");
  tj_release(j);
  b.len = 0;
  tl_events_render(ev, -1, &b);
  j = tj_parse(b.data, b.len);
  ck_assert_uint_eq(j->n, 3);
  tj_release(j);
  tl_buf_close(&b);
  tl_events_close(ev);
}
END_TEST

/* The rates in the words are the dashboard's numbers: thousands
 * separated, never a separator before the first digit (3 and 6 digits). */
START_TEST(load_rates_written_with_separators) {
  tl_events *ev = tl_events_init();
  double t = T0;
  feed(ev, &t, 10, 500);
  ck_assert_int_eq(tl_events_count(ev), 1);
  ck_assert_str_eq(tl_events_at(ev, 0)->text,
                   "load started: 500 req/s in its first period");
  feed(ev, &t, 30, 0);
  ck_assert_int_eq(tl_events_count(ev), 2);
  feed(ev, &t, 1, 250000);
  ck_assert_int_eq(tl_events_count(ev), 3);
  ck_assert_str_eq(tl_events_at(ev, 2)->text,
                   "load started: 250,000 req/s in its first period");
  tl_events_close(ev);
}
END_TEST

TL_CHECK_MAIN("events", bounded_and_in_order,
              control_diff_names_each_changed_key, load_starts_and_ends,
              renders_latest_as_json, load_rates_written_with_separators)
