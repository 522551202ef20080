/* The execution modes a task can run under (names: any thread). */
#ifndef TL_BASE_MODE_H
#define TL_BASE_MODE_H

typedef enum tl_mode {
  TL_MODE_ASYNC = 0, /* the loop thread runs every step; IO steps are timers */
  TL_MODE_POOL,      /* a worker runs all steps of a task, blocking */
  TL_MODE_HYBRID,    /* CPU steps on workers, IO steps as timers on the loop */
  TL_MODE_CORO,      /* each task a coroutine, resumed by any free worker */
  TL_MODE_COUNT
} tl_mode;

const char *tl_mode_name(tl_mode m);
/* Returns 0 and sets *out, or -1 for an unknown name. */
int tl_mode_parse(const char *s, tl_mode *out);

#endif
