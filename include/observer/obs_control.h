/* POST /control: checks and parses the parameters (mode, threads, pin;
 * in the query or a form-encoded body), from loopback peers only,
 * hands the change to the main loop's thread (tl_server_post_control) and
 * answers once it was applied. The connection is held meanwhile. Observer
 * thread, except where a function says otherwise. */
#ifndef TL_OBSERVER_OBS_CONTROL_H
#define TL_OBSERVER_OBS_CONTROL_H

#include <uv.h>

#include "core/server.h"
#include "base/parser.h"
#include "observer/admin_conn.h"

typedef struct tl_obs_control tl_obs_control;

tl_obs_control *tl_obs_control_init(uv_loop_t *uv, tl_server *srv);
/* On stop: closes the wake-up handle (answers arriving later are not sent;
 * tl_obs_control_close releases their connections). */
void tl_obs_control_close_handles(tl_obs_control *ctl);
/* After the loop has finished, and after every control posted has been
 * answered by the main loop (core/server.c answers them before stopping
 * the observer). */
void tl_obs_control_close(tl_obs_control *ctl);

/* Each applied change is logged in ev (observer/events.h) as one event
 * per state key whose value changed; NULL: none. */
struct tl_events;
void tl_obs_control_set_events(tl_obs_control *ctl, struct tl_events *ev);

/* Handles one POST /control request on c. */
void tl_obs_control_handle(tl_obs_control *ctl, tl_admin_conn *c,
                           const tl_request *req);

/* The lab's way to change settings: the same round trip as POST
 * /control, for a change already checked (fields as in tl_control: -1/0
 * keep). applied(arg, rc) runs on the observer thread once the main loop
 * has applied it (rc 0 or a negative errno); not at all if this returns
 * non-zero (the server is stopping) or the observer stops first. */
int tl_obs_control_apply(tl_obs_control *ctl, const tl_control *want,
                         void (*applied)(void *arg, int rc), void *arg);

#endif
