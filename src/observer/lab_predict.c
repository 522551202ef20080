#include "config.h"

#include "observer/lab_predict.h"

#include <math.h>
#include <string.h>

static double min2(double a, double b) { return a < b ? a : b; }

/* Threads that run steps: the loop alone in async mode. */
static double runners(const tl_lab_model *m) {
  return m->async ? 1 : m->workers;
}

double tl_lab_predict(const char *formula, const tl_lab_model *m) {
  if (strcmp(formula, "worker_count") == 0)
    return m->workers;
  if (strcmp(formula, "greater_than") == 0 || strcmp(formula, "at_most") == 0)
    return m->threshold;
  if (strcmp(formula, "cpu_bound") == 0) {
    if (m->cpu_ms <= 0 || m->cores < 1)
      return -1;
    return min2(m->cores, runners(m)) * 1000.0 / m->cpu_ms;
  }
  /* One lock held for the whole CPU step: one task at a time, whatever
   * the cores and the workers (the others sleep on the lock). */
  if (strcmp(formula, "serialised") == 0)
    return m->cpu_ms > 0 ? 1000.0 / m->cpu_ms : -1;
  if (strcmp(formula, "workers_over_wait") == 0)
    return m->io_ms > 0 ? runners(m) * 1000.0 / m->io_ms : -1;
  if (strcmp(formula, "connections_over_wait") == 0)
    return m->io_ms > 0 ? m->connections * 1000.0 / m->io_ms : -1;
  if (strcmp(formula, "task_chain") == 0) {
    /* A connection has one task in flight: it turns over every
     * cpu+io ms; the CPU steps alone need min(cores, workers) threads. */
    if (m->cpu_ms <= 0 || m->cpu_ms + m->io_ms <= 0 || m->cores < 1)
      return -1;
    double by_waits = m->connections * 1000.0 / (m->cpu_ms + m->io_ms);
    double by_cpu = min2(m->cores, runners(m)) * 1000.0 / m->cpu_ms;
    return min2(by_waits, by_cpu);
  }
  return -1;
}

bool tl_lab_predict_is_bound(const char *formula) {
  return strcmp(formula, "greater_than") == 0 ||
         strcmp(formula, "at_most") == 0;
}

bool tl_lab_predict_within(const char *formula, double measured,
                           double predicted, double tolerance) {
  if (strcmp(formula, "at_most") == 0)
    return measured <= predicted;
  if (tl_lab_predict_is_bound(formula))
    return measured > predicted;
  if (predicted <= 0)
    return false;
  return fabs(measured / predicted - 1.0) <= tolerance + 1e-9;
}
