/* The command line: parsed into a tl_config (runtime/config.h) on the main
 * thread at start, and the --help text. */
#ifndef TL_CORE_OPTIONS_H
#define TL_CORE_OPTIONS_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>

#include "runtime/config.h"

/* Fills defaults (threads = the CPUs the process may use, docroot = installed or in-tree www). */
void tl_options_defaults(tl_config *cfg);

/* Parses argv. Returns 0 to run, 1 when --help/--version was printed to
 * `out` (exit 0), -1 after printing an error to `err` (exit 2). */
int tl_options_parse(tl_config *cfg, int argc, char **argv, FILE *out,
                     FILE *err);

void tl_options_usage(FILE *out);

#endif
