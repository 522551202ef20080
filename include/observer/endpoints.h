/* What the observer answers: each request passes the guard (Host; for a
 * POST, Origin and the dashboard's header: observer/guard.h), then goes to
 * the dashboard's files, /stats, /stats/stream, /metrics, /healthz or
 * /control. Observer thread only; tl_endpoints_handle is the request
 * handler given to the admin connections (observer/admin_conn.h). */
#ifndef TL_OBSERVER_ENDPOINTS_H
#define TL_OBSERVER_ENDPOINTS_H

#include "core/server.h"
#include "base/parser.h"
#include "observer/admin_conn.h"
#include "observer/obs_control.h"
#include "observer/lab.h"
#include "observer/sched.h"
#include "observer/sampler.h"
#include "observer/sse.h"

typedef struct tl_endpoints tl_endpoints;

/* Opens the dashboard's directory (cfg.www) and Chart.js's. port: the
 * observer's bound port (its own origin). The endpoints answer from stats
 * and through sse and ctl, which the caller owns. */
tl_endpoints *tl_endpoints_init(tl_server *srv, int port, tl_sampler *stats,
                                tl_sse *sse, tl_obs_control *ctl);
void tl_endpoints_close(tl_endpoints *ep);
/* GET /stats/history and the stream's first event (`history`) answer
 * from h and ev, which the caller owns. */
struct tl_history;
struct tl_events;
void tl_endpoints_set_history(tl_endpoints *ep, const struct tl_history *h,
                              const struct tl_events *ev);
/* Routes /lab and /lab/... to the lab (the caller owns it). */
void tl_endpoints_set_lab(tl_endpoints *ep, tl_lab *lab);
/* Routes /sched and /sched/... to the scheduler lanes (caller owns them). */
void tl_endpoints_set_sched(tl_endpoints *ep, tl_sched *s);

/* The handler for every complete request (ctx: the tl_endpoints). */
void tl_endpoints_handle(void *ctx, tl_admin_conn *c, tl_request *req);

#endif
