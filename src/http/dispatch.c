#include "config.h"

#include "http/dispatch.h"

#include "base/query.h"

void tl_dispatch(const tl_request *r, unsigned allowed, tl_decision *d) {
  size_t plen, qlen;
  const char *q;
  int status;
  const char *allow;
  tl_split_target(r->target.data, r->target.len, &plen, &q, &qlen);
  d->route = tl_route_match(r->target.data, plen, r->method, &status, &allow);
  d->nsteps = 0;
  d->allow = allow;
  if (status == 404 || status == 405) {
    d->kind = TL_DECIDE_ERROR;
    d->status = status;
    d->msg = status == 404 ? "not found" : "method not allowed";
    return;
  }
  if (d->route == TL_ROUTE_CPU || d->route == TL_ROUTE_IO ||
      d->route == TL_ROUTE_TASK) {
    const char *err = NULL;
    int kind = d->route == TL_ROUTE_TASK  ? -1
               : d->route == TL_ROUTE_CPU ? TL_STEP_CPU
                                          : TL_STEP_IO;
    d->nsteps = tl_steps_from_query(q, qlen, kind, d->steps, &err);
    if (d->nsteps < 0) {
      d->kind = TL_DECIDE_ERROR;
      d->status = 400;
      d->msg = err;
      d->nsteps = 0;
      return;
    }
    for (int i = 0; i < d->nsteps; i++) {
      const char *no = NULL;
      if (d->steps[i].kind == TL_STEP_CRASH && !(allowed & TL_ALLOW_CRASH))
        no = "the crash step kills the process: start the server with "
             "--allow-crash";
      if (d->steps[i].kind == TL_STEP_DEADLOCK &&
          !(allowed & TL_ALLOW_DEADLOCK))
        no = "the deadlock step hangs two threads for ever: start the server "
             "with --allow-deadlock";
      if (no) {
        d->kind = TL_DECIDE_ERROR;
        d->status = 403;
        d->msg = no;
        d->nsteps = 0;
        return;
      }
    }
  }
  d->kind = TL_DECIDE_TASK;
  d->status = 0;
  d->msg = NULL;
}
