/* Process-wide figures (observer/sampler_process.h). */
#include "config.h"

#include "observer/sampler_process.h"

#include "base/cpulist.h"
#include "base/util.h"
#include "observer/processes.h"
#include "observer/procfs.h"
#include "observer/procfs_read.h"
#include "observer/sampler_rate.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

void tl_sampler_process_init(tl_sampler_process *sp) {
  sp->clk_tck = sysconf(_SC_CLK_TCK);
  sp->page_size = sysconf(_SC_PAGESIZE);
}

void tl_sampler_process_mask(tl_snapshot *s) {
  cpu_set_t aff;
  s->cpus_allowed = 0;
  s->cpus_allowed_list[0] = '\0';
  if (sched_getaffinity(getpid(), sizeof(aff), &aff) != 0)
    return;
  s->cpus_allowed = CPU_COUNT(&aff);
  /* A list that does not fit is left out, not cut. */
  if (tl_cpulist_format(&aff, s->cpus_allowed_list,
                        sizeof(s->cpus_allowed_list)) >=
      sizeof(s->cpus_allowed_list))
    s->cpus_allowed_list[0] = '\0';
}

void tl_sampler_process_sample(tl_sampler_process *st, tl_snapshot *s,
                               double period_s, bool slow) {
  tl_procfs_stat ps;
  ssize_t n =
      tl_procfs_read("/proc/self/stat", st->file_buf, sizeof(st->file_buf));
  if (n > 0 && tl_procfs_parse_stat(st->file_buf, (size_t) n, &ps) == 0) {
    s->cpu_user_s = (double) ps.utime_ticks / (double) st->clk_tck;
    s->cpu_sys_s = (double) ps.stime_ticks / (double) st->clk_tck;
    s->cpu_user_pct =
        100.0 * tl_sampler_rate(ps.utime_ticks, st->ticks_user, period_s) /
        (double) st->clk_tck;
    s->cpu_sys_pct = 100.0 *
                     tl_sampler_rate(ps.stime_ticks, st->ticks_sys, period_s) /
                     (double) st->clk_tck;
    st->ticks_user = ps.utime_ticks;
    st->ticks_sys = ps.stime_ticks;
    s->threads_count = ps.num_threads;
  }
  /* Resident memory from statm: the counter status prints as VmRSS, at a
   * fraction of the cost of status's fifty other keys. */
  tl_procfs_statm pm;
  n = tl_procfs_read("/proc/self/statm", st->file_buf, sizeof(st->file_buf));
  s->has_rss = s->has_ctx = false;
  if (n > 0 && tl_procfs_parse_statm(st->file_buf, (size_t) n, &pm) == 0) {
    s->has_rss = true;
    s->rss_bytes = pm.resident_pages * (uint64_t) st->page_size;
  }
  /* /proc/self/status counts the main thread's switches only; the kernel's
   * process-wide figure (every thread, also those that exited) is
   * getrusage(RUSAGE_SELF). */
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    s->has_ctx = true;
    s->ctx_vol = (uint64_t) ru.ru_nvcsw;
    s->ctx_invol = (uint64_t) ru.ru_nivcsw;
    s->ctx_vol_rate = tl_sampler_rate(s->ctx_vol, st->ctx_vol, period_s);
    s->ctx_invol_rate = tl_sampler_rate(s->ctx_invol, st->ctx_invol, period_s);
    st->ctx_vol = s->ctx_vol;
    st->ctx_invol = s->ctx_invol;
  }
  uint64_t now = tl_now_ns();
  if (st->fds_at_ns == 0 || (slow && now - st->fds_at_ns >= TL_PROC_SLOW_NS)) {
    s->fds = tl_procfs_read_fd_count();
    st->fds_at_ns = now;
  }
  s->fds_age_s = (double) (now - st->fds_at_ns) / 1e9;
}
