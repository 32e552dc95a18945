/* stream_agent.c: see stream_agent.h. */
#include "stream_agent.h"

#include <string.h>

void stream_agent_init(struct stream_agent *a, uint64_t stall_ns, uint64_t now_ns)
{
	memset(a, 0, sizeof(*a));
	a->stall_ns = stall_ns;
	a->state = AGENT_WAITING;
	a->state_since_ns = now_ns;
}

static void set_state(struct stream_agent *a, enum agent_state s, uint64_t now)
{
	if (a->state != s) {
		a->state = s;
		a->state_since_ns = now;
	}
}

unsigned stream_agent_observe(struct stream_agent *a, const struct agent_obs *o, uint64_t now)
{
	unsigned ev = 0;
	bool present = o->present;
	if (present) {
		a->heartbeat_age_ns = o->heartbeat_ns && now > o->heartbeat_ns ? now - o->heartbeat_ns : 0;
		/* A writer killed without cleanup leaves its object: gone once it is also silent. */
		if (!o->writer_alive && a->heartbeat_age_ns > a->stall_ns)
			present = false;
	}
	if (!present) {
		if (a->state != AGENT_WAITING) {
			ev |= AGENT_EV_GONE;
			a->disappearances++;
		}
		set_state(a, AGENT_WAITING, now);
		return ev;
	}
	if (a->state == AGENT_WAITING) {
		ev |= AGENT_EV_APPEARED;
		a->appearances++;
		a->last_advance_ns = now;
		set_state(a, AGENT_ACTIVE, now);
	}
	if (o->generation != a->generation) {
		if (a->generation)
			ev |= AGENT_EV_NEW_GENERATION, a->generations++;
		a->generation = o->generation;
		a->frames_seen += o->newest_seq; /* the new generation's seq space starts at 1 */
		a->newest_seq = o->newest_seq;
		a->last_advance_ns = now;
	} else if (o->newest_seq > a->newest_seq) {
		a->frames_seen += o->newest_seq - a->newest_seq;
		a->newest_seq = o->newest_seq;
		a->last_advance_ns = now;
	}
	if (now - a->last_advance_ns > a->stall_ns) {
		if (a->state != AGENT_STALLED) {
			ev |= AGENT_EV_STALLED;
			a->stalls++;
		}
		set_state(a, AGENT_STALLED, now);
	} else if (a->state == AGENT_STALLED) {
		ev |= AGENT_EV_RESUMED;
		set_state(a, AGENT_ACTIVE, now);
	}
	return ev;
}

const char *stream_agent_state_name(enum agent_state s)
{
	switch (s) {
	case AGENT_WAITING: return "waiting_for_export";
	case AGENT_ACTIVE: return "active";
	case AGENT_STALLED: return "stalled";
	}
	return "?";
}
