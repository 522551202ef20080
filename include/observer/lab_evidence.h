/* The kernel's evidence for a lab experiment: a figure picked out of a
 * /stats snapshot by a path such as "threads[role=worker].migrations"
 * ([] every element, [key=value] the matching ones) and an aggregate
 * (sum, max, min, mean, count, each). Pure functions of the JSON, any
 * thread. */
#ifndef TL_OBSERVER_LAB_EVIDENCE_H
#define TL_OBSERVER_LAB_EVIDENCE_H

#include <jansson.h>

/* A new reference: a number, an array (each), a string, or JSON null when
 * the snapshot does not have the figure (never a guess). */
json_t *tl_lab_evidence_eval(json_t *stats, const char *path, const char *agg);
/* after - before when both are numbers, else JSON null. */
json_t *tl_lab_evidence_delta(json_t *before, json_t *after);

/* How much a counter grew between two snapshots. Summed over the elements
 * of an array that carry a "tid" (threads[...].field), it is taken thread
 * by thread: threads that left do not count, a thread born meanwhile
 * counts from zero, so that a pool resized by the setup gives no negative
 * figure. Otherwise the delta of the aggregates. */
json_t *tl_lab_evidence_counter(json_t *before, json_t *after, const char *path,
                                const char *agg);

/* The q-quantile (0..1, nearest rank) of the wall times (end_ms -
 * start_ms) of the elements path reaches in after (timeline steps), only
 * those that started after before's timeline ended (before may be NULL):
 * the steps of this load, not of the variant before. agg names it:
 * "wall_p10", "wall_p50", "wall_p90". JSON null without a step. */
json_t *tl_lab_evidence_wall(json_t *before, json_t *after, const char *path,
                             const char *agg);

#endif
