/* CPU lists in the kernel's cpulist syntax ("0", "0-1", "0,2-3"), as
 * taskset -c and /proc/PID/status Cpus_allowed_list write them. Pure
 * functions of their arguments, any thread. */
#ifndef TL_BASE_CPULIST_H
#define TL_BASE_CPULIST_H

#include <sched.h>
#include <stddef.h>

/* Parses len bytes of s into set. Returns 0, or -1 when the text is not a
 * cpulist (empty, a reversed range, a number beyond CPU_SETSIZE, junk). */
int tl_cpulist_parse(const char *s, size_t len, cpu_set_t *set);
/* Writes set as a cpulist ("0-1,3"; "" when empty) into out (NUL ended,
 * truncated to cap). Returns the length it needed. */
size_t tl_cpulist_format(const cpu_set_t *set, char *out, size_t cap);
/* Why `want` cannot be the workers' set within `inherited`, or NULL when
 * it can (not empty, no CPU outside the mask the process inherited). */
const char *tl_cpulist_check(const cpu_set_t *want, const cpu_set_t *inherited);
/* The calling thread's affinity mask (every online core if the kernel
 * will not say). A thread that never changed its own mask gets the one
 * the process inherited (taskset, cgroup cpuset). */
void tl_cpulist_self(cpu_set_t *set);

#endif
