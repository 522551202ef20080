/* A threadlab started by the lab as its child server (observer/lab_child)
 * dies with the thread that started it: the lab puts its pid in
 * TL_LAB_PARENT_PID; at start, before any thread or fork, the child arms
 * PR_SET_PDEATHSIG (SIGKILL) and checks that its parent is still that
 * pid (it could have died between the fork and the prctl). The variable
 * is removed so that the child's own worker processes do not inherit it.
 * Main thread, at start. */
#ifndef TL_CORE_LAB_CHILD_GUARD_H
#define TL_CORE_LAB_CHILD_GUARD_H

/* Arms the guard when TL_LAB_PARENT_PID is set; exits (status 3) when the
 * parent is gone already. */
void tl_lab_child_guard_arm(void);

#endif
