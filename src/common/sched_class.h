/* sched_class.h: the Linux scheduling class the AI side's processes run in.
 *
 * ruth-model-runtime and ruth-ai-core run as SCHED_BATCH by default; vasd
 * stays SCHED_OTHER (docs/runtime.md, "Scheduling class"). A SCHED_BATCH
 * thread that wakes up does not preempt the thread running on its CPU; it
 * runs when that thread blocks or its slice ends. Why: the runtime's answer
 * wakes the core, and the core's next request wakes a worker, with the
 * kernel's "sync" hint that places the woken thread on the waker's CPU. As
 * SCHED_OTHER the woken one preempted the waker at once, a few microseconds
 * before it would have gone to sleep by itself: about one involuntary context
 * switch per inference in the runtime (0.96 measured at 8 cameras), each
 * costing the preempted thread a switch out, a switch back in and a cold TLB.
 * As SCHED_BATCH that fell to 0.33-0.44. It also keeps the AI side from
 * preempting vasd's decoding threads when it wakes (they still preempt it), in
 * the spirit of "AI never back-pressures decode". Nice level, priority and CPU
 * share are unchanged: SCHED_BATCH only gives up wake-up preemption.
 *
 * Thread safety: ksched_apply() sets the calling thread's class; threads
 * created after it inherit it (the pthread default), so processes call it in
 * main() before they start any thread. */
#ifndef KCOMMON_SCHED_CLASS_H
#define KCOMMON_SCHED_CLASS_H

enum ksched_class { KSCHED_BATCH = 0, KSCHED_NORMAL = 1 };

/* Names as written in configuration and on command lines, NULL-terminated,
 * indexed by enum ksched_class: "batch", "normal". */
extern const char *const ksched_names[];

/* "batch" or "normal" -> *out. Returns 0, or -EINVAL for anything else. */
int ksched_parse(const char *s, enum ksched_class *out);

/* Set the calling thread's class (priority 0, the only one either class has).
 * Returns 0 or -errno (a seccomp profile or a container runtime may refuse
 * it; callers log that and go on, the class is an optimisation). */
int ksched_apply(enum ksched_class c);

/* The calling thread's current class as a name ("batch", "normal", or
 * "other" for real-time and idle classes set from outside). */
const char *ksched_current_name(void);

#endif
