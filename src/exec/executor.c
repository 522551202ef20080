#include "config.h"

#include "exec/executor.h"

const tl_executor *tl_executor_for(tl_mode mode) {
  switch (mode) {
  case TL_MODE_ASYNC: return &tl_exec_async;
  case TL_MODE_HYBRID: return &tl_exec_hybrid;
  case TL_MODE_CORO: return &tl_exec_coro;
  default: return &tl_exec_pool;
  }
}
