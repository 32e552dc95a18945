/* clock.h: the clocks every part agrees on.
 *
 * CLOCK_MONOTONIC is system-wide on Linux, so a monotonic timestamp written by vasd
 * into the frame export and a deadline written by ruth-ai-core into an IPC request
 * mean the same instant to every process on the host. Wall-clock time is only
 * for humans and logs. */
#ifndef KERNEL_COMMON_CLOCK_H
#define KERNEL_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t kclock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t kclock_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the whole process (all threads), for the CPU-per-inference benchmarks. */
static inline uint64_t kclock_process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t kclock_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void kclock_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

#endif
