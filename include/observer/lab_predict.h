/* The lab's model: what each experiment's formula predicts for this
 * machine, and whether a measurement agrees. Pure functions, any thread;
 * the formulas are named in loadtest/experiments.json. */
#ifndef TL_OBSERVER_LAB_PREDICT_H
#define TL_OBSERVER_LAB_PREDICT_H

#include <stdbool.h>

typedef struct tl_lab_model {
  int cores;        /* CPUs in the workers' set */
  int workers;      /* worker threads of the setup */
  bool async;       /* async mode: the loop runs every step (1 worker) */
  int connections;  /* wrk connections of the load */
  double cpu_ms;    /* CPU per task (sum of a task's CPU steps) */
  double io_ms;     /* waiting per task (sum of its IO steps) */
  double threshold; /* greater_than, at_most */
} tl_lab_model;

/* The predicted figure, or a negative number for an unknown formula or
 * parameters it cannot use (a zero duration). */
double tl_lab_predict(const char *formula, const tl_lab_model *m);
/* True when `formula` is qualitative (the measurement must exceed the
 * prediction, greater_than, or stay at or below it, at_most, rather than
 * match it). */
bool tl_lab_predict_is_bound(const char *formula);
/* Within tolerance: |measured / predicted - 1| <= tolerance, or for a
 * bound, measured > predicted (at_most: measured <= predicted). */
bool tl_lab_predict_within(const char *formula, double measured,
                           double predicted, double tolerance);

#endif
