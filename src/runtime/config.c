#include "config.h"

#include "runtime/config.h"

tl_proc_role tl_config_role(const tl_config *cfg) {
  if (cfg->worker_index >= 0)
    return TL_PROC_WORKER;
  return cfg->processes > 0 ? TL_PROC_SUPERVISOR : TL_PROC_SINGLE;
}
