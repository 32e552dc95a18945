/* sched_class.c: see sched_class.h. */
#include "sched_class.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

const char *const ksched_names[] = { "batch", "normal", NULL };

int ksched_parse(const char *s, enum ksched_class *out)
{
	for (int i = 0; ksched_names[i]; i++) {
		if (strcmp(s, ksched_names[i]) == 0) {
			*out = (enum ksched_class)i;
			return 0;
		}
	}
	return -EINVAL;
}

int ksched_apply(enum ksched_class c)
{
	const struct sched_param p = { .sched_priority = 0 };
	/* pid 0: on Linux, the calling thread (not the whole process). */
	if (sched_setscheduler(0, c == KSCHED_BATCH ? SCHED_BATCH : SCHED_OTHER, &p) != 0)
		return -errno;
	return 0;
}

const char *ksched_current_name(void)
{
	switch (sched_getscheduler(0)) {
	case SCHED_BATCH: return "batch";
	case SCHED_OTHER: return "normal";
	default: return "other";
	}
}
