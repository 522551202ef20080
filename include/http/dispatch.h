/* Turning a parsed request into a decision: an error to answer at once, or
 * a task (route and steps) to start. Pure: no I/O, no state; any thread,
 * called by the connection module on its loop. */
#ifndef TL_HTTP_DISPATCH_H
#define TL_HTTP_DISPATCH_H

#include "base/steps.h"
#include "base/parser.h"
#include "base/router.h"

typedef enum tl_decision_kind {
  TL_DECIDE_ERROR = 0, /* answer status/msg (and allow, for 405) now */
  TL_DECIDE_TASK       /* start a task of route with steps[0..nsteps) */
} tl_decision_kind;

typedef struct tl_decision {
  tl_decision_kind kind;
  tl_route route;
  int status;        /* ERROR: 400 (bad steps), 403 (a crash step
                           without --allow-crash), 404, 405 */
  const char *msg;   /* ERROR: static text */
  const char *allow; /* 405: the methods the route takes */
  int nsteps;
  tl_step_spec steps[TL_MAX_STEPS];
} tl_decision;

/* allowed: TL_ALLOW_* bits, which gated steps may run (else 403); `true`
 * means TL_ALLOW_CRASH, as before the deadlock step existed. */
enum { TL_ALLOW_CRASH = 1, TL_ALLOW_DEADLOCK = 2 };
void tl_dispatch(const tl_request *req, unsigned allowed, tl_decision *d);

#endif
