/* The lab's report page (observer/lab_report): self-contained (no
 * external asset), each experiment's question, the latest run's variants
 * with their figures in a table and a bar chart, the verdict; text from
 * the runs is escaped. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "tl_check.h"
#include "observer/lab_report.h"

START_TEST(report_shows_latest_run_escaped_self_contained) {
  json_t *exps = json_loads(
      "[{\"id\":\"one-core\",\"idea\":\"concurrency <is not> parallelism\","
      "\"question\":\"4 workers on ONE core?\"},"
      "{\"id\":\"pin\",\"idea\":\"affinity\",\"question\":\"pinned?\"}]",
      0, NULL);
  json_t *runs = json_loads(
      "[{\"run\":1,\"id\":\"one-core\",\"status\":\"done\",\"unit\":\"req/s\","
      "\"variants\":[{\"id\":\"old\",\"label\":\"old\",\"measured\":1}],"
      "\"verdict\":{\"text\":\"stale\",\"consistent\":false}},"
      "{\"run\":2,\"id\":\"one-core\",\"status\":\"done\",\"unit\":\"req/s\","
      "\"variants\":[{\"id\":\"cpus0\",\"label\":\"on CPU "
      "0\",\"measured\":99,\"predicted\":100,"
      "\"ratio\":0.99,\"settings\":{\"mode\":\"pool\",\"threads\":4,\"worker_"
      "cpus\":\"0\"}},"
      "{\"id\":\"spread\",\"label\":\"every "
      "CPU\",\"measured\":198,\"predicted\":200,"
      "\"ratio\":0.99,\"settings\":{\"mode\":\"pool\",\"threads\":4,\"worker_"
      "cpus\":\"0-1\"}}],"
      "\"verdict\":{\"text\":\"2.0x & as the model "
      "says\",\"consistent\":true}}]",
      0, NULL);
  ck_assert_ptr_nonnull(exps);
  ck_assert_ptr_nonnull(runs);
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_lab_report_html(exps, runs, &b);
  tl_buf_putc(&b, '\0');
  const char *h = b.data;
  ck_assert(strncmp(h, "<!doctype html>", 15) == 0);
  /* Offline: nothing fetched from elsewhere. */
  ck_assert_msg(strstr(h, "src=") == NULL && strstr(h, "href=") == NULL &&
                    strstr(h, "@import") == NULL && strstr(h, "url(") == NULL,
                "%s", h);
  ck_assert(strstr(h, "4 workers on ONE core?") != NULL);
  ck_assert(strstr(h, "concurrency &lt;is not&gt; parallelism") != NULL);
  ck_assert(strstr(h, "2.0x &amp; as the model says") != NULL);
  /* The latest run only, both variants, in a table and a chart. */
  ck_assert(strstr(h, "stale") == NULL);
  ck_assert(strstr(h, "on CPU 0") && strstr(h, "every CPU"));
  ck_assert(strstr(h, ">99<") && strstr(h, ">198<"));
  ck_assert(strstr(h, "<svg") != NULL);
  const char *first = strstr(h, "<rect"),
             *second = first ? strstr(first + 1, "<rect") : NULL;
  ck_assert_msg(first && second, "two bars expected");
  ck_assert(strstr(h, "As the model says:") != NULL);
  /* The other experiment is listed, not run. */
  ck_assert(strstr(h, "pinned?") && strstr(h, "Not run yet."));
  ck_assert(strstr(h, "@media print") != NULL);
  tl_buf_close(&b);
  json_decref(exps);
  json_decref(runs);
}
END_TEST

TL_CHECK_MAIN("lab_report", report_shows_latest_run_escaped_self_contained)
