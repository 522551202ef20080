/* A lab experiment's setup and model (loadtest/experiments.json): the
 * workers' CPUs and threads it asks for on this machine, the model's
 * inputs and prediction, and the settings saved to restore after a run.
 * Observer thread only. */
#ifndef TL_OBSERVER_LAB_SETUP_H
#define TL_OBSERVER_LAB_SETUP_H

#include <jansson.h>
#include <sched.h>

#include "observer/lab_predict.h"
#include "observer/lab_run.h"

/* The workers' CPU set a setup asks for ("all", "first", a cpulist;
 * absent: the current one) and the /control cpus operation (*op). -1 when
 * the text is bad. */
int tl_lab_setup_cpus(tl_lab *lab, json_t *setup, cpu_set_t *out, int *op);
/* The workers a setup asks for (a number, "cores": one per CPU of cpus;
 * absent: current). */
int tl_lab_setup_threads(json_t *setup, const cpu_set_t *cpus, int current);
/* The model's inputs for exp on this machine. */
void tl_lab_setup_model(tl_lab *lab, json_t *exp, tl_lab_model *m);
/* {"predicted","bound","model"} for exp. */
json_t *tl_lab_setup_prediction(tl_lab *lab, json_t *exp);
/* Saves the live settings into lab->saved / saved_cpus. */
void tl_lab_setup_save(tl_lab *lab);
/* {"mode","threads","pin","worker_cpus"} of s. */
json_t *tl_lab_setup_json(const tl_control *s, const char *cpus);

#endif
