/* Unit tests of the stream agent state machine (src/core/stream_agent.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stream_agent.h"

#define MS 1000000ull

static struct agent_obs live(uint64_t gen, uint64_t seq, uint64_t hb)
{
	return (struct agent_obs){ .present = true, .writer_alive = true, .generation = gen, .newest_seq = seq,
				   .heartbeat_ns = hb };
}

static void test_lifecycle(void **state)
{
	(void)state;
	struct stream_agent a;
	stream_agent_init(&a, 2000 * MS, 0);
	struct agent_obs none = { 0 };
	assert_int_equal(stream_agent_observe(&a, &none, 10 * MS), 0);
	assert_int_equal(a.state, AGENT_WAITING);

	struct agent_obs o = live(100, 5, 20 * MS);
	assert_int_equal(stream_agent_observe(&a, &o, 20 * MS), AGENT_EV_APPEARED);
	assert_int_equal(a.state, AGENT_ACTIVE);
	assert_int_equal(a.frames_seen, 5);

	o = live(100, 35, 1000 * MS);
	stream_agent_observe(&a, &o, 1000 * MS);
	assert_int_equal(a.frames_seen, 35);
	/* no new seq for > stall_ms: STALLED (heartbeat old too) */
	assert_int_equal(stream_agent_observe(&a, &o, 3001 * MS), AGENT_EV_STALLED);
	assert_int_equal(a.state, AGENT_STALLED);
	assert_int_equal(a.stalls, 1);
	assert_int_equal(a.heartbeat_age_ns, 2001 * MS);
	/* frames again: back to ACTIVE */
	o = live(100, 36, 3100 * MS);
	assert_int_equal(stream_agent_observe(&a, &o, 3100 * MS), AGENT_EV_RESUMED);
	assert_int_equal(a.state, AGENT_ACTIVE);

	/* export gone (vasd stopped, shm unlinked) */
	assert_int_equal(stream_agent_observe(&a, &none, 3200 * MS), AGENT_EV_GONE);
	assert_int_equal(a.state, AGENT_WAITING);
	/* back with a new generation: counters kept */
	o = live(200, 3, 4000 * MS);
	unsigned ev = stream_agent_observe(&a, &o, 4000 * MS);
	assert_true(ev & AGENT_EV_APPEARED);
	assert_true(ev & AGENT_EV_NEW_GENERATION);
	assert_int_equal(a.generation, 200);
	assert_int_equal(a.generations, 1);
	assert_int_equal(a.frames_seen, 39);
	assert_int_equal(a.appearances, 2);
	assert_int_equal(a.disappearances, 1);
}

static void test_generation_change_in_place(void **state)
{
	(void)state;
	struct stream_agent a;
	stream_agent_init(&a, 500 * MS, 0);
	struct agent_obs o = live(1, 10, 0);
	stream_agent_observe(&a, &o, 0);
	o = live(2, 1, 100 * MS); /* resolution change: new object, new generation */
	assert_int_equal(stream_agent_observe(&a, &o, 100 * MS), AGENT_EV_NEW_GENERATION);
	assert_int_equal(a.state, AGENT_ACTIVE);
	assert_int_equal(a.newest_seq, 1);
}

static void test_dead_writer(void **state)
{
	(void)state;
	struct stream_agent a;
	stream_agent_init(&a, 500 * MS, 0);
	struct agent_obs o = live(1, 10, 1 * MS);
	stream_agent_observe(&a, &o, 1 * MS);
	/* vasd killed -9: the object stays, the writer pid is gone, heartbeat ages */
	o.writer_alive = false;
	assert_int_equal(stream_agent_observe(&a, &o, 100 * MS), 0); /* not yet: heartbeat recent */
	assert_int_equal(stream_agent_observe(&a, &o, 600 * MS), AGENT_EV_GONE);
	assert_int_equal(a.state, AGENT_WAITING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_generation_change_in_place),
		cmocka_unit_test(test_dead_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
