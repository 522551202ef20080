#include "config.h"

#include "observer/coro_sample.h"

#include "exec/coro.h"
#include "exec/coro_switch.h"

/* The previous sample's cumulative figures (observer thread only). */
static uint64_t prev_switches, prev_migrations, resident;
static tl_hist_snap prev_wake;

void tl_coro_sample(tl_coro_snap *o, const tl_config *cfg, double period_s,
                    bool slow) {
  tl_coro_counters c;
  tl_coro_read(&c);
  o->created = c.created;
  o->alive = c.alive;
  o->suspended = c.suspended;
  o->runnable = c.runnable;
  o->switches = c.switches;
  o->migrations = c.migrations;
  o->switches_rate = (double) (c.switches - prev_switches) / period_s;
  o->migrations_rate = (double) (c.migrations - prev_migrations) / period_s;
  prev_switches = c.switches;
  prev_migrations = c.migrations;
  o->stack_reserved_bytes = c.stack_reserved_bytes;
  if (slow || c.alive == 0)
    resident = c.alive ? tl_coro_stack_resident_bytes() : 0;
  o->stack_resident_bytes = resident;
  o->stack_kib = cfg->coro_stack_kib;
  o->slice_ms = tl_coro_slice_ms(cfg);
  tl_coro_costs k;
  tl_coro_get_costs(&k);
  o->switch_name = tl_switch_name((tl_switch_kind) cfg->coro_switch);
  o->switch_ns = cfg->coro_switch == TL_SWITCH_ASM ? k.asm_ns : k.ucontext_ns;
  o->asm_ns = k.asm_ns;
  o->ucontext_ns = k.ucontext_ns;
  o->kernel_switch_ns = k.kernel_ns;
  tl_hist_read(tl_coro_wake_hist(), &o->wake_all);
  tl_hist_diff(&o->wake_all, &prev_wake, &o->wake_period);
  prev_wake = o->wake_all;
}
