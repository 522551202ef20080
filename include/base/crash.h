/* The `crash` step: a real crash of the calling process, the way a bug
 * would kill it. Any thread. */
#ifndef TL_BASE_CRASH_H
#define TL_BASE_CRASH_H

/* No core file (RLIMIT_CORE 0, not dumpable), then an invalid memory
 * access with SIGSEGV's default action restored, so that a sanitizer's
 * handler does not turn it into an ordinary exit: the process dies by
 * SIGSEGV with every thread and connection in it. Never returns. */
_Noreturn void tl_crash_process(void);

#endif
