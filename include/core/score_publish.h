/* A worker process's figures for its supervisor (--processes N): its
 * loops' counters summed, its queue depth and its own threads' figures,
 * copied into its scoreboard slot (relaxed atomics, this process the one
 * writer), so that the supervisor's /stats shows the workers as one
 * server. Threads: the worker's main loop (tl_score_publish); the adding
 * and copying helpers run anywhere on memory their caller owns. */
#ifndef TL_CORE_SCORE_PUBLISH_H
#define TL_CORE_SCORE_PUBLISH_H

#include "core/scoreboard.h"

struct tl_server;

typedef struct tl_score_pub tl_score_pub;

tl_score_pub *tl_score_pub_init(void);
void tl_score_pub_close(tl_score_pub *p);
void tl_score_publish(tl_score_pub *p, const struct tl_server *srv,
                      tl_score_slot *slot);

#endif
