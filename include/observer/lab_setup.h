/* A lab experiment's setup and model (loadtest/experiments.json): the
 * workers' CPUs and threads it asks for on this machine, the model's
 * inputs and prediction, and the settings saved to restore after a run.
 * Observer thread only. */
#ifndef TL_OBSERVER_LAB_SETUP_H
#define TL_OBSERVER_LAB_SETUP_H

#include <jansson.h>
#include <sched.h>
#include <stdbool.h>

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

/* Variants (SPEC "Lab 2"): the experiment's variants, or one made of its
 * own setup when it names none. */
int tl_lab_setup_nvariants(json_t *exp);
/* Variant i's setup: the variant's keys laid over the experiment's (a new
 * reference). */
json_t *tl_lab_setup_variant(json_t *exp, int i);
/* Variant i's "id" / "label" ("" when absent). */
const char *tl_lab_setup_variant_str(json_t *exp, int i, const char *key);
/* Variant i's check: its own when it has the key (null: none), else the
 * experiment's (borrowed, or NULL). */
json_t *tl_lab_setup_variant_check(json_t *exp, int i);
/* exp as variant i sees it: with the variant's own "prediction" (formula
 * and params: a pool holds a worker through a wait that async does not)
 * when it has one (a new reference). */
json_t *tl_lab_setup_variant_exp(json_t *exp, int i);
/* True when a setup can only run in a server started for it (processes,
 * allow_crash, allow_deadlock), or asks for one ("child": true: both
 * variants of a comparison in fresh servers alike). */
bool tl_lab_setup_needs_child(json_t *setup);
/* The unit of an experiment's measured figure ("req/s" for rps). */
const char *tl_lab_setup_unit(json_t *exp);
/* The /control change for a setup: the saved settings with the setup's
 * keys over them (so that a variant inherits nothing from the one before).
 * -1 when its cpus are not usable here. */
int tl_lab_setup_control(tl_lab *lab, json_t *setup, tl_control *want);
/* The model's inputs for exp with this setup. */
void tl_lab_setup_model_for(tl_lab *lab, json_t *exp, json_t *setup,
                            tl_lab_model *m);
/* The model's inputs for exp from settings read back
 * ({"mode","threads","worker_cpus"}). */
void tl_lab_setup_model_settings(json_t *exp, json_t *settings,
                                 tl_lab_model *m);
/* The live settings read back: {"mode","threads","pin","worker_cpus",
 * "coro_slice_ms","processes"}. */
json_t *tl_lab_setup_readback(tl_lab *lab);
/* GET /lab's variants[] of exp: id, label, setup, needs_child, predicted,
 * unit. */
json_t *tl_lab_setup_variants_json(tl_lab *lab, json_t *exp);

#endif
