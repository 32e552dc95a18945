/* test_egress_unit: the pieces of src/vas/egress that need no files or sockets:
 * the bounded queue (never blocks, drops and marks a gap when full, keeps control
 * events), the H.264 Annex B scanner, and the constructors' argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "egress_common.h"

static AVPacket *mkpkt(int size, int key)
{
	AVPacket *p = av_packet_alloc();
	av_new_packet(p, size);
	memset(p->data, 0x42, (size_t)size);
	if (key)
		p->flags |= AV_PKT_FLAG_KEY;
	return p;
}

static void test_queue_bounded(void **state)
{
	(void)state;
	struct egress_queue q;
	assert_int_equal(egress_queue_init(&q, 4), 0);
	AVPacket *p = mkpkt(100, 1);
	for (int i = 0; i < 4; i++)
		assert_true(egress_queue_push_packet(&q, p));
	assert_false(egress_queue_push_packet(&q, p)); /* full: dropped */
	assert_false(egress_queue_push_packet(&q, p));
	/* control events are never refused */
	assert_int_equal(egress_queue_push_ctl(&q, EGRESS_EV_CLOSE, NULL, (AVRational){ 0, 1 }), 0);
	struct egress_ev ev;
	for (int i = 0; i < 4; i++) {
		assert_true(egress_queue_pop(&q, &ev, 0));
		assert_int_equal(ev.type, EGRESS_EV_PACKET);
		assert_false(ev.gap_before);
		assert_int_equal(ev.pkt->size, 100);
		egress_ev_free(&ev);
	}
	assert_true(egress_queue_pop(&q, &ev, 0));
	assert_int_equal(ev.type, EGRESS_EV_CLOSE);
	egress_ev_free(&ev);
	/* the next packet after the drops carries the gap mark */
	assert_true(egress_queue_push_packet(&q, p));
	assert_true(egress_queue_pop(&q, &ev, 0));
	assert_true(ev.gap_before);
	egress_ev_free(&ev);
	assert_false(egress_queue_pop(&q, &ev, 10));
	/* what is still queued is freed by destroy (LSan checks) */
	assert_true(egress_queue_push_packet(&q, p));
	AVCodecParameters *par = avcodec_parameters_alloc();
	par->codec_id = AV_CODEC_ID_H264;
	assert_int_equal(egress_queue_push_ctl(&q, EGRESS_EV_OPEN, par, (AVRational){ 1, 90000 }), 0);
	avcodec_parameters_free(&par);
	egress_queue_destroy(&q);
	av_packet_free(&p);
}

static void test_h264_scan(void **state)
{
	(void)state;
	static const uint8_t buf[] = { 0, 0, 0, 1, 0x09, 0xf0,             /* AUD */
				       0, 0, 0, 1, 0x67, 0x64, 0x00, 0x28, /* SPS */
				       0, 0, 1, 0x68, 0xee, 0x3c, 0x80,    /* PPS, 3-byte start code */
				       0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x00, 0x03 }; /* IDR */
	struct egress_h264_ps ps;
	memset(&ps, 0, sizeof(ps));
	assert_true(egress_is_annexb(buf, sizeof(buf)));
	unsigned m = egress_h264_scan(buf, sizeof(buf), &ps);
	assert_int_equal(m, 7u);
	assert_int_equal(ps.sps_len, 8);
	assert_memory_equal(ps.sps, "\0\0\0\1\x67\x64\x00\x28", 8);
	assert_int_equal(ps.pps_len, 8);
	assert_memory_equal(ps.pps, "\0\0\0\1\x68\xee\x3c\x80", 8);
	static const uint8_t avcc[] = { 0, 0, 0, 5, 0x65, 1, 2, 3, 4 };
	assert_false(egress_is_annexb(avcc, sizeof(avcc)));
	static const uint8_t pslice[] = { 0, 0, 1, 0x41, 0x9a, 0x00 };
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(egress_h264_scan(pslice, sizeof(pslice), &ps), 0u);
	assert_int_equal(egress_h264_scan(pslice, 2, &ps), 0u); /* truncated */
}

static void test_constructor_checks(void **state)
{
	(void)state;
	char err[200];
	struct vas_branch *b = (struct vas_branch *)1;
	struct vas_record_config rc = { .enabled = true, .segment_seconds = 2 };
	assert_true(vas_record_branch_new(&b, "cam", &rc, err, sizeof(err)) < 0); /* no dir */
	assert_null(b);
	snprintf(rc.dir, sizeof(rc.dir), "/tmp");
	assert_true(vas_record_branch_new(&b, "a/b", &rc, err, sizeof(err)) < 0);
	struct vas_rtp_config pc = { .enabled = true };
	assert_true(vas_rtp_branch_new(&b, "cam", &pc, err, sizeof(err)) < 0); /* no host */
	snprintf(pc.host, sizeof(pc.host), "127.0.0.1");
	pc.port = 18690;
	pc.payload_type = 200;
	assert_true(vas_rtp_branch_new(&b, "cam", &pc, err, sizeof(err)) < 0);
	pc.payload_type = 0;
	assert_int_equal(vas_rtp_branch_new(&b, "cam", &pc, err, sizeof(err)), 0);
	struct vas_branch_stats st;
	b->ops->get_stats(b, &st);
	assert_string_equal(st.state, "idle");
	assert_string_equal(b->ops->name, "rtp");
	assert_int_equal(b->ops->version, VAS_BRANCH_ABI_VERSION);
	/* packets before any stream are counted as dropped, never block */
	AVPacket *p = mkpkt(10, 0);
	b->ops->packet(b, p);
	av_packet_free(&p);
	b->ops->destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_bounded),
		cmocka_unit_test(test_h264_scan),
		cmocka_unit_test(test_constructor_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
