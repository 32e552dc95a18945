/* fps_gate.h: the FPS gate of one subscription. Pure: no I/O, no clock reads;
 * the caller passes "now" (CLOCK_MONOTONIC ns, or a simulated clock in tests).
 *
 * Rules (docs/core.md, "FPS gate"):
 *  - Ticks are due every period = 1/fps, anchored at the first tick. Ticks missed
 *    by a poll that comes late by more than one period are not caught up (no
 *    burst after a pause or a stall): the late poll ticks once and the next tick
 *    is the first point of the original grid at least half a period later, so
 *    the subscription keeps its phase.
 *  - At a tick, the gate picks the newest frame of the export not yet sent to this
 *    subscription; never a frame at or below the last one sent (no duplicate).
 *  - At most max_inflight requests are in flight; a tick that finds them all
 *    outstanding sends nothing.
 *  - Every frame the export published is accounted exactly once per
 *    subscription: selected, or dropped with a reason:
 *      not_due     skipped between two ticks (the normal case at 30 -> 5 fps)
 *      inflight    newest frame at a tick while max_inflight were outstanding
 *      unavailable newest frame at a tick while the model was unavailable
 *    Ticks that find no new frame are counted as no_new_frame (ticks, not frames).
 *  - A new export generation (vasd restart, resolution change) restarts the seq
 *    space: fps_gate_new_generation() keeps the counters and the schedule.
 */
#ifndef RUTH_CORE_FPS_GATE_H
#define RUTH_CORE_FPS_GATE_H

#include <stdbool.h>
#include <stdint.h>

enum fps_gate_decision {
	FPS_GATE_NOT_DUE = 0,      /* now is before the next tick: nothing to do */
	FPS_GATE_SELECT = 1,       /* send *seq_out */
	FPS_GATE_NO_NEW_FRAME = 2, /* tick, but no frame newer than the last sent */
	FPS_GATE_INFLIGHT = 3,     /* tick, but max_inflight requests outstanding */
	FPS_GATE_UNAVAILABLE = 4,  /* tick, but the caller said the model cannot take it */
};

struct fps_gate_counters {
	uint64_t ticks;
	uint64_t selected;
	uint64_t completed;
	uint64_t dropped_not_due;
	uint64_t dropped_inflight;
	uint64_t dropped_unavailable;
	uint64_t no_new_frame; /* ticks */
	uint64_t early;        /* selections made before their tick (fps_gate_poll_early) */
	uint64_t generations;  /* generation changes seen */
};

struct fps_gate {
	double fps;
	uint64_t period_ns;
	uint64_t next_tick_ns; /* 0 = first call ticks at once */
	uint32_t max_inflight;
	uint32_t inflight;
	uint64_t generation;
	uint64_t last_sent_seq; /* in this generation, 0 = none */
	uint64_t accounted_seq; /* highest seq counted (selected or dropped), this generation */
	bool accounted_valid;   /* false right after a generation change */
	struct fps_gate_counters c;
};

void fps_gate_init(struct fps_gate *g, double fps, uint32_t max_inflight);
/* Change the rate at run time: the next tick comes at most one new period from now. */
void fps_gate_set_fps(struct fps_gate *g, double fps, uint64_t now_ns);
void fps_gate_set_max_inflight(struct fps_gate *g, uint32_t max_inflight);

/* Place the first tick at first_tick_ns (before the first poll). Subscriptions of
 * one model are spread over the period this way, so that N cameras at the same
 * rate do not send N requests at the same instant (the runtime's queue would
 * answer BUSY to the burst, always to the same cameras). */
void fps_gate_set_phase(struct fps_gate *g, uint64_t first_tick_ns);

/* Nanoseconds until the next tick (0 when due now). */
uint64_t fps_gate_time_to_next(const struct fps_gate *g, uint64_t now_ns);

/* Evaluate the gate at now. newest_seq/generation describe the export (0 = no
 * frame yet). `available` is false when the model cannot take a request now.
 * Returns the decision; with FPS_GATE_SELECT, *seq_out is the frame to send and
 * the caller must later call fps_gate_complete() exactly once for it (or
 * fps_gate_cancel() if it could not be sent after all). */
enum fps_gate_decision fps_gate_poll(struct fps_gate *g, uint64_t now_ns, uint64_t newest_seq,
				     uint64_t generation, bool available, uint64_t *seq_out);

/* Early selection: like fps_gate_poll when the tick is due; before it, selects
 * only if the tick is at most early_ns away, there is a frame newer than the
 * last one sent and a request can go (available, below max_inflight). It then
 * counts as the tick it anticipates: the grid does not move (the next tick is
 * one period after the anticipated one), so the rate stays exactly fps and one
 * interval between two selections is at most early_ns shorter or longer than a
 * period. Anything else before the tick is FPS_GATE_NOT_DUE and changes
 * nothing: an early look never consumes a tick (a source no faster than the
 * subscription would otherwise lose the frame that arrives at the tick).
 * The caller keeps early_ns below half a period. Why the core does this: it
 * lets one wake-up serve an answer and the next tick (docs/core.md, "Tick
 * slack"). */
enum fps_gate_decision fps_gate_poll_early(struct fps_gate *g, uint64_t now_ns, uint64_t early_ns,
					   uint64_t newest_seq, uint64_t generation, bool available,
					   uint64_t *seq_out);

/* A request of this gate finished (any status). */
void fps_gate_complete(struct fps_gate *g);
/* A selected frame could not be sent: undo the in-flight slot; counted as unavailable. */
void fps_gate_cancel(struct fps_gate *g);

const char *fps_gate_decision_name(enum fps_gate_decision d);

#endif
