/* Unit tests of the FPS gate (src/core/fps_gate.c) with a simulated clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fps_gate.h"

#define MS 1000000ull
#define SEC 1000000000ull

/* A simulated source: frames at given times; the gate is polled every 1 ms (as
 * the core's loop would be woken at each tick). */
struct sim {
	struct fps_gate g;
	uint64_t now;
	uint64_t newest;
	uint64_t generation;
	uint64_t last_selected;
	uint64_t per_sec[1000];
	int complete_after_ms; /* <0: never complete on its own */
	uint64_t inflight_since[16];
	int n_inflight;
	int duplicates;
	uint64_t bursts; /* selections less than half a period apart */
	uint64_t last_sel_time;
};

static void sim_step(struct sim *s, bool available)
{
	/* complete requests whose service time elapsed */
	for (int i = 0; i < s->n_inflight;) {
		if (s->complete_after_ms >= 0 && s->now >= s->inflight_since[i] + (uint64_t)s->complete_after_ms * MS) {
			fps_gate_complete(&s->g);
			s->inflight_since[i] = s->inflight_since[--s->n_inflight];
		} else {
			i++;
		}
	}
	uint64_t seq = 0;
	if (fps_gate_poll(&s->g, s->now, s->newest, s->generation, available, &seq) == FPS_GATE_SELECT) {
		if (seq <= s->last_selected)
			s->duplicates++;
		if (s->last_sel_time && s->now - s->last_sel_time < s->g.period_ns / 2)
			s->bursts++;
		s->last_sel_time = s->now;
		s->last_selected = seq;
		s->per_sec[s->now / SEC]++;
		s->inflight_since[s->n_inflight++] = s->now;
	}
}

static void sim_init(struct sim *s, double fps, uint32_t max_inflight)
{
	memset(s, 0, sizeof(*s));
	fps_gate_init(&s->g, fps, max_inflight);
	s->generation = 1;
	s->complete_after_ms = 20;
}

/* Run from now to end_ns with frames at a fixed interval (0 = none), polling every ms. */
static void sim_run(struct sim *s, uint64_t end_ns, uint64_t frame_interval_ns, uint64_t *next_frame)
{
	for (; s->now < end_ns; s->now += MS) {
		if (frame_interval_ns && s->now >= *next_frame) {
			s->newest++;
			*next_frame += frame_interval_ns;
		}
		sim_step(s, true);
	}
}

static void test_30fps_source_5fps_sub(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	sim_init(s, 5, 1);
	uint64_t nf = 0;
	sim_run(s, 60 * SEC, SEC / 30, &nf);
	for (int k = 0; k < 60; k++)
		assert_int_equal(s->per_sec[k], 5);
	assert_int_equal(s->duplicates, 0);
	assert_int_equal(s->g.c.selected, 300);
	/* every frame up to the last tick accounted once: selected or dropped */
	assert_int_equal(s->g.c.selected + s->g.c.dropped_not_due + s->g.c.dropped_inflight, s->g.accounted_seq);
	assert_true(s->newest - s->g.accounted_seq <= 7);
	assert_int_equal(s->g.c.dropped_inflight, 0);
	free(s);
}

static void test_slow_source(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	sim_init(s, 10, 1);
	uint64_t nf = 0;
	sim_run(s, 30 * SEC, SEC / 5, &nf);
	assert_int_equal(s->duplicates, 0);
	for (int k = 0; k < 30; k++)
		assert_int_equal(s->per_sec[k], 5);
	assert_true(s->g.c.no_new_frame >= 140);
	free(s);
}

static void test_jitter(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	sim_init(s, 5, 1);
	srand(12345);
	uint64_t next = 0;
	for (; s->now < 60 * SEC; s->now += MS) {
		if (s->now >= next) {
			s->newest++;
			double jitter = 0.7 + 0.6 * ((double)rand() / RAND_MAX); /* +-30% */
			next += (uint64_t)((double)(SEC / 30) * jitter);
		}
		sim_step(s, true);
	}
	assert_int_equal(s->duplicates, 0);
	for (int k = 0; k < 60; k++) {
		assert_true(s->per_sec[k] >= 4);
		assert_true(s->per_sec[k] <= 6);
	}
	assert_true(s->g.c.selected >= 299 && s->g.c.selected <= 301);
	free(s);
}

static void test_pause(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	sim_init(s, 5, 1);
	uint64_t nf = 0;
	sim_run(s, 10 * SEC, SEC / 30, &nf);
	uint64_t before = s->g.c.selected;
	sim_run(s, 13 * SEC, 0, &nf); /* no frames for 3 s */
	assert_int_equal(s->g.c.selected, before + 1); /* at most the frame that was pending at the pause start */
	nf = s->now;
	sim_run(s, 20 * SEC, SEC / 30, &nf);
	for (int k = 14; k < 20; k++)
		assert_int_equal(s->per_sec[k], 5);
	assert_int_equal(s->duplicates, 0);
	assert_int_equal(s->bursts, 0);
	free(s);
}

static void test_slow_model(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	sim_init(s, 5, 1);
	s->complete_after_ms = 1500; /* each request takes 1.5 s */
	uint64_t nf = 0;
	sim_run(s, 20 * SEC, SEC / 30, &nf);
	assert_true(s->g.c.dropped_inflight > 0);
	assert_int_equal(s->bursts, 0);
	assert_int_equal(s->duplicates, 0);
	/* one in flight at a time: one selection per 1.6 s (next tick after completion) */
	assert_true(s->g.c.selected <= 13);
	uint64_t sel = s->g.c.selected;
	/* the model recovers: back to 5/s from the next tick, no burst */
	s->complete_after_ms = 20;
	sim_run(s, 30 * SEC, SEC / 30, &nf);
	for (int k = 22; k < 30; k++)
		assert_int_equal(s->per_sec[k], 5);
	assert_true(s->g.c.selected - sel <= 51);
	assert_int_equal(s->bursts, 0);
	assert_int_equal(s->g.c.selected + s->g.c.dropped_not_due + s->g.c.dropped_inflight, s->g.accounted_seq);
	free(s);
}

static void test_never_completes(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	sim_init(s, 5, 2);
	s->complete_after_ms = -1;
	uint64_t nf = 0;
	sim_run(s, 10 * SEC, SEC / 30, &nf);
	assert_int_equal(s->g.c.selected, 2); /* max_inflight */
	assert_int_equal(s->g.c.dropped_inflight, 48);
	free(s);
}

static void test_fps_change(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	sim_init(s, 5, 1);
	uint64_t nf = 0;
	sim_run(s, 10 * SEC, SEC / 30, &nf);
	fps_gate_set_fps(&s->g, 10, s->now);
	sim_run(s, 20 * SEC, SEC / 30, &nf);
	for (int k = 11; k < 20; k++)
		assert_int_equal(s->per_sec[k], 10);
	fps_gate_set_fps(&s->g, 1, s->now);
	sim_run(s, 30 * SEC, SEC / 30, &nf);
	for (int k = 21; k < 30; k++)
		assert_int_equal(s->per_sec[k], 1);
	assert_int_equal(s->duplicates, 0);
	free(s);
}

static void test_unavailable_and_generation(void **state)
{
	(void)state;
	struct fps_gate g;
	fps_gate_init(&g, 5, 1);
	uint64_t seq = 0;
	assert_int_equal(fps_gate_poll(&g, 0, 0, 0, true, &seq), FPS_GATE_NO_NEW_FRAME);
	assert_int_equal(fps_gate_poll(&g, 100 * MS, 3, 7, true, &seq), FPS_GATE_NOT_DUE);
	assert_int_equal(fps_gate_poll(&g, 200 * MS, 3, 7, false, &seq), FPS_GATE_UNAVAILABLE);
	assert_int_equal(g.c.dropped_unavailable, 1);
	assert_int_equal(fps_gate_poll(&g, 400 * MS, 9, 7, true, &seq), FPS_GATE_SELECT);
	assert_int_equal(seq, 9);
	fps_gate_complete(&g);
	/* new generation: seq restarts at 1; counters kept */
	assert_int_equal(fps_gate_poll(&g, 600 * MS, 2, 8, true, &seq), FPS_GATE_SELECT);
	assert_int_equal(seq, 2);
	assert_int_equal(g.c.generations, 1);
	assert_int_equal(g.c.selected, 2);
	fps_gate_complete(&g);
	assert_int_equal(fps_gate_poll(&g, 800 * MS, 2, 8, true, &seq), FPS_GATE_NO_NEW_FRAME);
	/* cancel gives the in-flight slot back */
	assert_int_equal(fps_gate_poll(&g, 1000 * MS, 5, 8, true, &seq), FPS_GATE_SELECT);
	fps_gate_cancel(&g);
	assert_int_equal(g.inflight, 0);
	/* a long gap does not cause a burst: one tick, the next on the old grid (200 ms steps) */
	assert_int_equal(fps_gate_poll(&g, 10 * SEC, 50, 8, true, &seq), FPS_GATE_SELECT);
	fps_gate_complete(&g);
	assert_int_equal(fps_gate_poll(&g, 10 * SEC + 1 * MS, 51, 8, true, &seq), FPS_GATE_NOT_DUE);
	assert_int_equal(fps_gate_time_to_next(&g, 10 * SEC), 200 * MS);
}

/* A poll that comes late (the core paused or starved) ticks once and keeps the
 * subscription's phase: two subscriptions spread over the period stay spread. */
static void test_late_poll_keeps_phase(void **state)
{
	(void)state;
	struct fps_gate a, b;
	fps_gate_init(&a, 5, 1);
	fps_gate_init(&b, 5, 1);
	fps_gate_set_phase(&a, 37 * MS);  /* grid 37 + 200 k ms */
	fps_gate_set_phase(&b, 137 * MS); /* grid 137 + 200 k ms */
	uint64_t seq = 0, newest = 0, ticks_a = 0, ticks_b = 0;
	for (uint64_t t = 0; t < 2 * SEC; t += MS) {
		newest += t % (33 * MS) == 0;
		if (fps_gate_poll(&a, t, newest, 1, true, &seq) == FPS_GATE_SELECT) {
			assert_int_equal(t % (200 * MS), 37 * MS);
			fps_gate_complete(&a);
			ticks_a++;
		}
		if (fps_gate_poll(&b, t, newest, 1, true, &seq) == FPS_GATE_SELECT) {
			assert_int_equal(t % (200 * MS), 137 * MS);
			fps_gate_complete(&b);
			ticks_b++;
		}
	}
	assert_int_equal(ticks_a, 10);
	assert_int_equal(ticks_b, 10);
	/* No poll for 5.31 s, then both in the same wake-up: one tick each. */
	const uint64_t late = 7310 * MS;
	newest += 150;
	assert_int_equal(fps_gate_poll(&a, late, newest, 1, true, &seq), FPS_GATE_SELECT);
	assert_int_equal(fps_gate_poll(&b, late, newest, 1, true, &seq), FPS_GATE_SELECT);
	fps_gate_complete(&a);
	fps_gate_complete(&b);
	/* a: the grid point 7.437 s is 127 ms away (>= half a period): next tick there. */
	assert_int_equal(fps_gate_time_to_next(&a, late), 127 * MS);
	/* b: 7.337 s is only 27 ms away: skipped, next tick at 7.537 s. */
	assert_int_equal(fps_gate_time_to_next(&b, late), 227 * MS);
	/* And from there on both tick on their old grids again, 100 ms apart. */
	for (uint64_t t = late + MS; t < late + 2 * SEC; t += MS) {
		newest += t % (33 * MS) == 0;
		if (fps_gate_poll(&a, t, newest, 1, true, &seq) == FPS_GATE_SELECT) {
			assert_int_equal(t % (200 * MS), 37 * MS);
			fps_gate_complete(&a);
		}
		if (fps_gate_poll(&b, t, newest, 1, true, &seq) == FPS_GATE_SELECT) {
			assert_int_equal(t % (200 * MS), 137 * MS);
			fps_gate_complete(&b);
		}
	}
	assert_int_equal(a.c.ticks, 10 + 1 + 10);
	assert_int_equal(b.c.ticks, 10 + 1 + 9);
}

/* Tick slack (fps_gate_poll_early): a look up to 50 ms before the tick selects
 * then, and the grid does not move: still exactly 5 a second, no duplicate, each
 * selection exactly 50 ms before its grid point, the next tick on the grid. */
static void test_early_keeps_rate_and_grid(void **state)
{
	(void)state;
	struct fps_gate g;
	fps_gate_init(&g, 5, 1);
	fps_gate_set_phase(&g, 137 * MS); /* grid 137 + 200 k ms */
	uint64_t seq = 0, newest = 0, last = 0, per_sec[10] = { 0 };
	for (uint64_t t = 0; t < 10 * SEC; t += MS) {
		newest += t % (33 * MS) == 0;
		enum fps_gate_decision d = fps_gate_poll_early(&g, t, 50 * MS, newest, 1, true, &seq);
		if (d != FPS_GATE_SELECT)
			continue;
		assert_int_equal(t % (200 * MS), 87 * MS);
		assert_true(seq > last);
		last = seq;
		per_sec[t / SEC]++;
		/* the next tick is the next grid point, a period after the anticipated one */
		assert_int_equal(fps_gate_time_to_next(&g, t), 250 * MS);
		fps_gate_complete(&g);
	}
	for (int k = 0; k < 10; k++)
		assert_int_equal(per_sec[k], 5);
	assert_int_equal(g.c.selected, 50);
	assert_int_equal(g.c.early, 50);
	assert_int_equal(g.c.ticks, 50);
	assert_int_equal(g.c.no_new_frame, 0);
}

/* An early look that cannot send changes nothing: no new frame, every request
 * slot taken, the model unavailable, or the tick further away than early_ns. The
 * tick stays due at its time and a frame that arrives before it is still taken
 * (a 5 fps source at 5 fps loses no selection to early looks). */
static void test_early_never_consumes_a_tick(void **state)
{
	(void)state;
	struct fps_gate g;
	uint64_t seq = 0;
	fps_gate_init(&g, 5, 1);
	fps_gate_set_phase(&g, 200 * MS);
	assert_int_equal(fps_gate_poll(&g, 200 * MS, 7, 1, true, &seq), FPS_GATE_SELECT);
	assert_int_equal(seq, 7);
	fps_gate_complete(&g);
	struct fps_gate_counters before = g.c;
	/* next tick at 400 ms; frame 7 was sent, no newer one yet */
	assert_int_equal(fps_gate_poll_early(&g, 360 * MS, 50 * MS, 7, 1, true, &seq), FPS_GATE_NOT_DUE);
	/* frame 8 is there, but the tick is 60 ms away: beyond early_ns */
	assert_int_equal(fps_gate_poll_early(&g, 340 * MS, 50 * MS, 8, 1, true, &seq), FPS_GATE_NOT_DUE);
	/* within early_ns, frame 8 there, but the model cannot take it */
	assert_int_equal(fps_gate_poll_early(&g, 370 * MS, 50 * MS, 8, 1, false, &seq), FPS_GATE_NOT_DUE);
	assert_memory_equal(&before, &g.c, sizeof(before));
	assert_int_equal(fps_gate_time_to_next(&g, 370 * MS), 30 * MS);
	/* every request slot taken (max_inflight 1) */
	assert_int_equal(fps_gate_poll(&g, 400 * MS, 8, 1, true, &seq), FPS_GATE_SELECT);
	assert_int_equal(fps_gate_poll_early(&g, 560 * MS, 50 * MS, 9, 1, true, &seq), FPS_GATE_NOT_DUE);
	assert_int_equal(g.c.dropped_inflight, 0);
	assert_int_equal(g.c.ticks, 2);
	fps_gate_complete(&g);
	/* now it can: selected early, counted as the 600 ms tick */
	assert_int_equal(fps_gate_poll_early(&g, 565 * MS, 50 * MS, 9, 1, true, &seq), FPS_GATE_SELECT);
	assert_int_equal(seq, 9);
	assert_int_equal(g.c.ticks, 3);
	assert_int_equal(g.c.early, 1);
	assert_int_equal(fps_gate_time_to_next(&g, 565 * MS), 235 * MS);
	fps_gate_complete(&g);
	/* A source exactly at the subscription's rate: frames at 150 + 200 k ms, ticks
	 * at 200 k ms; looks every ms from 50 ms before each tick. Every period
	 * selects its frame (the looks before the frame arrive change nothing). */
	fps_gate_init(&g, 5, 1);
	fps_gate_set_phase(&g, 1 * SEC);
	uint64_t newest = 0, n = 0;
	for (uint64_t t = 1 * SEC - 50 * MS; t < 11 * SEC - 50 * MS; t += MS) {
		if (t % (200 * MS) == 150 * MS)
			newest++;
		if (fps_gate_poll_early(&g, t, 50 * MS, newest, 1, true, &seq) == FPS_GATE_SELECT) {
			assert_int_equal(seq, newest);
			n++;
			fps_gate_complete(&g);
		}
	}
	assert_int_equal(n, 50);
	assert_int_equal(g.c.no_new_frame, 0);
	assert_int_equal(g.c.early, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_30fps_source_5fps_sub), cmocka_unit_test(test_slow_source),
		cmocka_unit_test(test_jitter),                cmocka_unit_test(test_pause),
		cmocka_unit_test(test_late_poll_keeps_phase),
		cmocka_unit_test(test_early_keeps_rate_and_grid),
		cmocka_unit_test(test_early_never_consumes_a_tick),
		cmocka_unit_test(test_slow_model),            cmocka_unit_test(test_never_completes),
		cmocka_unit_test(test_fps_change),            cmocka_unit_test(test_unavailable_and_generation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
