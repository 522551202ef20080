/* A step wall-time percentile (observer/lab_evidence, wall_pNN) is the
 * nearest rank: with 4 steps of 1, 2, 3 and 4 ms, p90 lies at rank 2.7 of
 * 0-3, nearest 3 (4 ms), not the rank below (mutaudit3). */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <math.h>

#include "tl_check.h"
#include "observer/lab_evidence.h"

static double wall(json_t *after, const char *agg) {
  json_t *v =
      tl_lab_evidence_wall(NULL, after, "timeline.steps[kind=cpu]", agg);
  ck_assert_msg(json_is_number(v), "%s: not a number", agg);
  double d = json_number_value(v);
  json_decref(v);
  return d;
}

START_TEST(the_nearest_rank) {
  json_t *after = json_loads("{\"timeline\":{\"steps\":["
                             "{\"kind\":\"cpu\",\"start_ms\":10,\"end_ms\":14},"
                             "{\"kind\":\"cpu\",\"start_ms\":20,\"end_ms\":21},"
                             "{\"kind\":\"cpu\",\"start_ms\":30,\"end_ms\":33},"
                             "{\"kind\":\"cpu\",\"start_ms\":40,\"end_ms\":42}"
                             "]}}",
                             0, NULL);
  ck_assert_ptr_nonnull(after);
  ck_assert(fabs(wall(after, "wall_p90") - 4) < 1e-9);
  ck_assert(fabs(wall(after, "wall_p10") - 1) < 1e-9);
  ck_assert(fabs(wall(after, "wall_p0") - 1) < 1e-9);
  ck_assert(fabs(wall(after, "wall_p100") - 4) < 1e-9);
  ck_assert(fabs(wall(after, "wall_p40") - 2) < 1e-9); /* rank 1.2 */
  json_decref(after);
}
END_TEST

TL_CHECK_MAIN("lab_evidence_edges", the_nearest_rank)
