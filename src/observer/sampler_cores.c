/* Per-core figures (observer/sampler_cores.h). */
#include "config.h"

#include "observer/sampler_cores.h"
#include "observer/procfs_read.h"

#include "observer/sampler_rate.h"

#include <string.h>

void tl_sampler_cores_sample(tl_sampler_cores *st, tl_snapshot *s,
                             const uint64_t *core_steps, double period_s) {
  ssize_t n = tl_procfs_read("/proc/stat", st->file_buf, sizeof(st->file_buf));
  s->ncores = 0;
  if (n <= 0 ||
      tl_procfs_parse_sysstat(st->file_buf, (size_t) n, &st->sys_now) != 0)
    return;
  for (int cpu = 0; cpu <= st->sys_now.max_cpu_id && cpu < TL_SNAP_MAX_CORES;
       cpu++) {
    if (!st->sys_now.present[cpu])
      continue;
    tl_core_snap *c = &s->cores[s->ncores++];
    memset(c, 0, sizeof(*c));
    c->cpu = cpu;
    c->steps = core_steps[cpu];
    c->steps_rate =
        tl_sampler_rate(core_steps[cpu], st->core_steps_prev[cpu], period_s);
    if (!st->have_sys_prev || !st->sys_prev.present[cpu])
      continue;
    const tl_procfs_cpu_times *a = &st->sys_now.cpu[cpu],
                              *b = &st->sys_prev.cpu[cpu];
    double user = (double) (a->user + a->nice - b->user - b->nice);
    double sys = (double) (a->system - b->system);
    double iow = (double) (a->iowait - b->iowait);
    double irq = (double) (a->irq + a->softirq - b->irq - b->softirq);
    double idle = (double) (a->idle - b->idle);
    double steal = (double) (a->steal - b->steal);
    double total = user + sys + iow + irq + idle + steal;
    if (total <= 0)
      continue;
    c->user_pct = 100.0 * user / total;
    c->sys_pct = 100.0 * sys / total;
    c->iowait_pct = 100.0 * iow / total;
    c->irq_pct = 100.0 * irq / total;
    c->idle_pct = 100.0 * idle / total;
  }
  memcpy(st->core_steps_prev, core_steps, sizeof(st->core_steps_prev));
  st->sys_prev = st->sys_now;
  st->have_sys_prev = true;
}
