/* stream_agent.h: the per-camera state machine of ruth-ai-core. Pure: the
 * caller (core.c) opens/checks the export and feeds observations; this module
 * decides the state and keeps the counters, so it is tested without vasd.
 *
 *                 export appears                 new seq
 *   WAITING ---------------------------> ACTIVE <---------- STALLED
 *   (no shm)  <--- export gone ----------  |  ---no new seq for stall_ms--->
 *      ^          (unlinked, RETIRED        |
 *      |           without successor,       | new generation (vasd restart,
 *      +--------- writer pid dead)          | resolution change): reopen,
 *                                           v counters kept
 *
 * STALLED: the export exists but no new frame for more than stall_ms (the
 * writer's heartbeat age is reported to tell "vasd alive, camera down" from
 * "vasd hung"). An export whose writer process is gone and whose heartbeat is
 * older than stall_ms counts as gone (kill -9 leaves the shm object behind).
 */
#ifndef RUTH_CORE_STREAM_AGENT_H
#define RUTH_CORE_STREAM_AGENT_H

#include <stdbool.h>
#include <stdint.h>

enum agent_state { AGENT_WAITING = 0, AGENT_ACTIVE = 1, AGENT_STALLED = 2 };

struct agent_obs {
	bool present;          /* an export is open */
	bool writer_alive;     /* writer pid exists (kill(pid, 0)) */
	uint64_t generation;
	uint64_t newest_seq;
	uint64_t heartbeat_ns; /* CLOCK_MONOTONIC of the writer's last publish/tick */
};

enum agent_event {
	AGENT_EV_NONE = 0,
	AGENT_EV_APPEARED = 1 << 0,
	AGENT_EV_GONE = 1 << 1,
	AGENT_EV_NEW_GENERATION = 1 << 2,
	AGENT_EV_STALLED = 1 << 3,
	AGENT_EV_RESUMED = 1 << 4,
};

struct stream_agent {
	enum agent_state state;
	uint64_t stall_ns;
	uint64_t generation;     /* current (last seen) generation, 0 = none yet */
	uint64_t newest_seq;
	uint64_t last_advance_ns; /* when newest_seq last changed (or the export appeared) */
	uint64_t heartbeat_age_ns;
	uint64_t state_since_ns;
	/* counters, kept across generations and reconnects */
	uint64_t frames_seen;     /* seq advances summed over generations */
	uint64_t generations;     /* generation changes after the first */
	uint64_t appearances;
	uint64_t disappearances;
	uint64_t stalls;
};

void stream_agent_init(struct stream_agent *a, uint64_t stall_ns, uint64_t now_ns);
/* Feed one observation; returns a mask of enum agent_event. */
unsigned stream_agent_observe(struct stream_agent *a, const struct agent_obs *o, uint64_t now_ns);
const char *stream_agent_state_name(enum agent_state s);

#endif
