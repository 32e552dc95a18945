/* fps_gate.c: see fps_gate.h. */
#include "fps_gate.h"

#include <string.h>

static uint64_t period_of(double fps)
{
	if (fps <= 0)
		fps = 1;
	double p = 1e9 / fps;
	return p < 1 ? 1 : (uint64_t)(p + 0.5);
}

void fps_gate_init(struct fps_gate *g, double fps, uint32_t max_inflight)
{
	memset(g, 0, sizeof(*g));
	g->fps = fps;
	g->period_ns = period_of(fps);
	g->max_inflight = max_inflight ? max_inflight : 1;
	g->accounted_valid = true;
}

void fps_gate_set_fps(struct fps_gate *g, double fps, uint64_t now_ns)
{
	g->fps = fps;
	g->period_ns = period_of(fps);
	if (g->next_tick_ns && g->next_tick_ns > now_ns + g->period_ns)
		g->next_tick_ns = now_ns + g->period_ns;
}

void fps_gate_set_max_inflight(struct fps_gate *g, uint32_t max_inflight)
{
	g->max_inflight = max_inflight ? max_inflight : 1;
}

void fps_gate_set_phase(struct fps_gate *g, uint64_t first_tick_ns)
{
	g->next_tick_ns = first_tick_ns ? first_tick_ns : 1;
}

uint64_t fps_gate_time_to_next(const struct fps_gate *g, uint64_t now_ns)
{
	if (!g->next_tick_ns || g->next_tick_ns <= now_ns)
		return 0;
	return g->next_tick_ns - now_ns;
}

static void account_drop(struct fps_gate *g, uint64_t newest, uint64_t *counter)
{
	/* The newest frame (and everything unaccounted before it) is dropped. */
	if (!g->accounted_valid) {
		*counter += 1;
		g->accounted_valid = true;
	} else if (newest > g->accounted_seq) {
		g->c.dropped_not_due += newest - g->accounted_seq - 1;
		*counter += 1;
	}
	if (newest > g->accounted_seq)
		g->accounted_seq = newest;
}

/* Whether the export's newest frame is one this subscription may still be sent:
 * newer than the last one sent and than every frame already accounted. A new
 * generation restarts the seq space, so any frame of it is new. */
static bool frame_is_new(const struct fps_gate *g, uint64_t newest_seq, uint64_t generation)
{
	if (!newest_seq)
		return false;
	if (generation != g->generation)
		return true;
	return newest_seq > g->last_sent_seq && (!g->accounted_valid || newest_seq > g->accounted_seq);
}

enum fps_gate_decision fps_gate_poll(struct fps_gate *g, uint64_t now_ns, uint64_t newest_seq,
				     uint64_t generation, bool available, uint64_t *seq_out)
{
	if (g->next_tick_ns && now_ns < g->next_tick_ns)
		return FPS_GATE_NOT_DUE;
	/* Schedule the next tick: anchored, never in the past (no catch-up burst),
	 * and on the same grid after a late poll: the missed ticks are skipped and
	 * the next one is the first grid point at least half a period after now
	 * (so the late tick and the next one are never closer than that). Keeping
	 * the grid keeps the phase fps_gate_set_phase gave the subscription; a
	 * restart from now would put every subscription polled late in the same
	 * wake-up (the core paused, stopped, or starved of CPU) at one instant for
	 * good, and the runtime would see them as one burst per period ever after. */
	if (!g->next_tick_ns) {
		g->next_tick_ns = now_ns + g->period_ns;
	} else if (now_ns >= g->next_tick_ns + g->period_ns) {
		uint64_t missed = (now_ns - g->next_tick_ns) / g->period_ns + 1;
		g->next_tick_ns += missed * g->period_ns;
		if (g->next_tick_ns - now_ns < g->period_ns / 2)
			g->next_tick_ns += g->period_ns;
	} else {
		g->next_tick_ns += g->period_ns;
	}
	g->c.ticks++;

	if (generation != g->generation && newest_seq) {
		if (g->generation)
			g->c.generations++;
		g->generation = generation;
		g->last_sent_seq = 0;
		g->accounted_seq = 0;
		g->accounted_valid = false;
	}
	if (!frame_is_new(g, newest_seq, generation)) {
		g->c.no_new_frame++;
		return FPS_GATE_NO_NEW_FRAME;
	}
	if (!available) {
		account_drop(g, newest_seq, &g->c.dropped_unavailable);
		return FPS_GATE_UNAVAILABLE;
	}
	if (g->inflight >= g->max_inflight) {
		account_drop(g, newest_seq, &g->c.dropped_inflight);
		return FPS_GATE_INFLIGHT;
	}
	if (g->accounted_valid && newest_seq > g->accounted_seq + 1)
		g->c.dropped_not_due += newest_seq - g->accounted_seq - 1;
	g->accounted_valid = true;
	g->accounted_seq = newest_seq;
	g->last_sent_seq = newest_seq;
	g->inflight++;
	g->c.selected++;
	*seq_out = newest_seq;
	return FPS_GATE_SELECT;
}

enum fps_gate_decision fps_gate_poll_early(struct fps_gate *g, uint64_t now_ns, uint64_t early_ns,
					   uint64_t newest_seq, uint64_t generation, bool available,
					   uint64_t *seq_out)
{
	if (!g->next_tick_ns || now_ns >= g->next_tick_ns)
		return fps_gate_poll(g, now_ns, newest_seq, generation, available, seq_out);
	if (g->next_tick_ns - now_ns > early_ns || !available || g->inflight >= g->max_inflight ||
	    !frame_is_new(g, newest_seq, generation))
		return FPS_GATE_NOT_DUE;
	/* Poll as of the tick itself: same bookkeeping, grid advanced by one period. */
	enum fps_gate_decision d = fps_gate_poll(g, g->next_tick_ns, newest_seq, generation, available, seq_out);
	if (d == FPS_GATE_SELECT)
		g->c.early++;
	return d;
}

void fps_gate_complete(struct fps_gate *g)
{
	if (g->inflight)
		g->inflight--;
	g->c.completed++;
}

void fps_gate_cancel(struct fps_gate *g)
{
	if (g->inflight)
		g->inflight--;
	if (g->c.selected)
		g->c.selected--;
	g->c.dropped_unavailable++;
}

const char *fps_gate_decision_name(enum fps_gate_decision d)
{
	switch (d) {
	case FPS_GATE_NOT_DUE: return "not_due";
	case FPS_GATE_SELECT: return "select";
	case FPS_GATE_NO_NEW_FRAME: return "no_new_frame";
	case FPS_GATE_INFLIGHT: return "inflight";
	case FPS_GATE_UNAVAILABLE: return "unavailable";
	}
	return "?";
}
