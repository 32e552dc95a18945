/* runtime_cpu: ruth-model-runtime starts in CPU mode for blazeface-front on a
 * machine without a GPU (the CUDA append failure is the reason), and answers a
 * real inference on a real image published into a frame export. Also
 * --busy-poll-us: validated, polls after answers when set, off by default and at 0
 * (its counters come from the runtime's stop line). And GROUPED requests
 * (protocol version 2): a group written in one write is run in order by one
 * thread, every answer correct; version 1 refuses the flag. */
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime_harness.h"

/* messi5.jpg (548x342): the player's face, checked by eye on the picture with
 * the box drawn in (ffmpeg drawbox), x0 y0 x1 y1 in pixels. */
static const float messi_face[4] = { 222, 92, 258, 132 };
#define CROP_X 160u
#define CROP_Y 34u

static float box_iou(const float *a, const float *b)
{
	float ix = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
	float iy = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
	if (ix <= 0 || iy <= 0)
		return 0;
	float inter = ix * iy;
	return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

static void test_cpu_mode_and_face(void **state)
{
	(void)state;
	char model[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	struct rt_proc p;
	int r = rt_start(&p, "cpu", model, NULL);
	if (r != 0)
		rt_dump_log(&p);
	assert_int_equal(r, 0);

	/* Every thread, ONNX Runtime's included, runs as SCHED_BATCH (the default). */
	assert_int_equal(rt_threads_policy(p.pid), SCHED_BATCH);

	/* Socket mode 0660. */
	struct stat st;
	assert_int_equal(stat(p.sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	struct ruth_ipc_client *c = NULL;
	struct ruth_ipc_hello_ack ack;
	assert_int_equal(ruth_ipc_client_connect(&c, p.sock, "runtime_cpu", 5000, &ack), 0);
	assert_int_equal(ack.mode, RUTH_MODE_CPU);
	assert_int_equal(ack.state, RUTH_STATE_READY);
	assert_string_equal(ack.model_id, "blazeface-front");
	assert_string_equal(ack.backend, "onnxruntime");
	assert_int_equal(ack.input_width, 128);
	fprintf(stderr, "mode_reason: %s\n", ack.mode_reason);
	/* No GPU here: the CUDA provider append failed, and that is the reason. */
	assert_non_null(strstr(ack.mode_reason, "GPU unavailable"));
	assert_non_null(strstr(ack.mode_reason, "CUDA"));

	struct ruth_ipc_health_ack h;
	assert_int_equal(ruth_ipc_client_health(c, &h, 5000), 0);
	assert_int_equal(h.mode, RUTH_MODE_CPU);
	assert_int_equal(h.state, RUTH_STATE_READY);
	assert_non_null(strstr(h.reason, "GPU unavailable"));
	/* A CPU start is a normal start: the failed CUDA probe is in the mode
	 * reason, not an ERROR line (ORT logs it as one; the runtime lowers it). */
	if (rt_file_contains(p.log, " ERROR "))
		rt_dump_log(&p);
	assert_false(rt_file_contains(p.log, " ERROR "));

	char img[600], cam[48];
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(cam, sizeof(cam), "rt-cpu-%d", (int)getpid());
	struct rt_export e;
	/* BlazeFace front is the short-range model: the player's face is small in
	 * the whole 548x342 picture, so publish a 160x160 crop around it (a real
	 * camera framing a person closer). */
	assert_int_equal(rt_export_open_crop(&e, cam, img, 4, NULL, CROP_X, CROP_Y, 160, 160), 0);
	int64_t seq = rt_export_publish(&e);
	assert_true(seq > 0);

	struct ruth_ipc_infer_request req;
	rt_infer_req(&req, cam, e.generation, (uint64_t)seq);
	static struct ruth_ipc_msg reply;
	ruth_ipc_msg_init(&reply);
	assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 10000), 0);
	const struct ruth_ipc_infer_response *resp = &reply.u.infer_response;
	fprintf(stderr, "status %s (%s), %u detections, frame %ux%u, timings q=%u pre=%u inf=%u post=%u us\n",
		ruth_ipc_status_name(resp->status), resp->message, resp->n_detections, resp->frame_width,
		resp->frame_height, resp->queue_us, resp->preprocess_us, resp->infer_us, resp->postprocess_us);
	assert_int_equal(resp->status, RUTH_IPC_OK);
	assert_int_equal(resp->mode, RUTH_MODE_CPU);
	assert_int_equal(resp->frame_width, e.width);
	assert_int_equal(resp->frame_height, e.height);
	assert_int_equal(resp->frame_seq, (uint64_t)seq);
	assert_int_equal(resp->generation, e.generation);
	assert_true(resp->n_detections >= 1);
	/* Boxes come back in source-frame pixels (of the crop): shift to the full
	 * picture and compare with the hand-checked face box. */
	const struct ruth_ipc_detection *d = &resp->detections[0];
	float box[4] = { d->x0 + CROP_X, d->y0 + CROP_Y, d->x1 + CROP_X, d->y1 + CROP_Y };
	float iou = box_iou(box, messi_face);
	fprintf(stderr, "face [%.1f %.1f %.1f %.1f] score %.3f IoU %.2f\n", box[0], box[1], box[2], box[3], d->score, iou);
	assert_true(d->score >= 0.6f);
	assert_true(iou >= 0.5f);
	assert_int_equal(d->n_points, 6);

	ruth_ipc_client_close(&c);
	rt_export_close(&e);
	assert_int_equal(rt_stop(&p), 0);
	/* Clean exit removes the socket. */
	assert_false(p.sock_left);
}

/* Start blazeface-front with extra args as `name`, and publish the face crop
 * into an export of camera "rt-<name>-<pid>" (written to cam). Returns the seq. */
static int64_t start_with_face(struct rt_proc *p, struct rt_export *e, const char *name, const char *const *args,
			       char *cam, size_t cam_cap)
{
	char model[600], img[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(cam, cam_cap, "rt-%s-%d", name, (int)getpid());
	int r = rt_start(p, name, model, args);
	if (r != 0)
		rt_dump_log(p);
	assert_int_equal(r, 0);
	assert_int_equal(rt_export_open_crop(e, cam, img, 4, NULL, CROP_X, CROP_Y, 160, 160), 0);
	int64_t seq = rt_export_publish(e);
	assert_true(seq > 0);
	return seq;
}

/* SIGTERM, wait, and read the stop line: "stopped: R requests, F failed, G run
 * in a group after its first; busy-poll caught H of P next requests". */
struct stop_line {
	unsigned long long requests, grouped, hits, polls;
};

static void stop_and_read(struct rt_proc *p, struct stop_line *sl)
{
	kill(p->pid, SIGTERM);
	assert_int_equal(rt_wait_exit(p, 20000), 0);
	FILE *f = fopen(p->log, "r");
	assert_non_null(f);
	char line[1024];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *s = strstr(line, "stopped: ");
		if (s && sscanf(s, "stopped: %llu requests, %*u failed, %llu run in a group after its first; busy-poll "
				   "caught %llu of %llu",
				&sl->requests, &sl->grouped, &sl->hits, &sl->polls) == 4)
			found = 1;
	}
	fclose(f);
	if (!found)
		rt_dump_log(p);
	assert_true(found);
	assert_int_equal(rt_stop(p), 0);
}

/* Run `n` back-to-back requests against a runtime started with extra args,
 * stop it with SIGTERM and read its stop line: requests answered, busy polls
 * tried and polls that caught the next request. */
static void run_sequential(const char *const *args, int n, unsigned long long *requests, unsigned long long *polls,
			   unsigned long long *hits)
{
	char cam[48];
	struct rt_proc p;
	struct rt_export e;
	int64_t seq = start_with_face(&p, &e, "poll", args, cam, sizeof(cam));
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, p.sock, "runtime_cpu", 5000, NULL), 0);
	struct ruth_ipc_infer_request req;
	rt_infer_req(&req, cam, e.generation, (uint64_t)seq);
	static struct ruth_ipc_msg reply;
	for (int i = 0; i < n; i++) {
		ruth_ipc_msg_init(&reply);
		assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 10000), 0);
		assert_int_equal(reply.u.infer_response.status, RUTH_IPC_OK);
	}
	ruth_ipc_client_close(&c);
	rt_export_close(&e);
	struct stop_line sl;
	stop_and_read(&p, &sl);
	*requests = sl.requests;
	*polls = sl.polls;
	*hits = sl.hits;
	assert_int_equal(sl.grouped, 0);
}

static void test_busy_poll(void **state)
{
	(void)state;
	char model[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	/* Out of range: a usage error naming the flag, exit 2. */
	struct rt_proc p;
	const char *bad[] = { "--busy-poll-us", "20000", NULL };
	assert_int_equal(rt_start(&p, "poll-bad", model, bad), 1);
	assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 2);
	assert_true(rt_file_contains(p.log, "invalid value '20000' for --busy-poll-us"));
	rt_stop(&p);

	/* On: a thread polls after its answers (it starts with credit, so the
	 * first answers always poll; whether a poll catches the next request
	 * depends on this machine's timing and is only reported). */
	unsigned long long reqs, polls, hits;
	const char *on[] = { "--busy-poll-us", "200", NULL };
	run_sequential(on, 20, &reqs, &polls, &hits);
	fprintf(stderr, "busy-poll 200 us: %llu requests, caught %llu of %llu polls\n", reqs, hits, polls);
	assert_int_equal(reqs, 20);
	assert_true(polls >= 1 && polls <= 20);
	assert_true(hits <= polls);

	/* Default (off, CPU first) and an explicit 0: never polls. */
	run_sequential(NULL, 20, &reqs, &polls, &hits);
	assert_int_equal(reqs, 20);
	assert_int_equal(polls, 0);
	assert_int_equal(hits, 0);
	const char *off[] = { "--busy-poll-us", "0", NULL };
	run_sequential(off, 20, &reqs, &polls, &hits);
	assert_int_equal(reqs, 20);
	assert_int_equal(polls, 0);
	assert_int_equal(hits, 0);
}

/* An INFER_REQUEST for frame seq of cam in m. */
static void infer_msg(struct ruth_ipc_msg *m, uint16_t version, uint64_t id, const char *cam, uint64_t gen,
		      int64_t seq, uint32_t flags)
{
	ruth_ipc_msg_init(m);
	m->hdr.type = RUTH_IPC_INFER_REQUEST;
	m->hdr.version = version;
	m->hdr.request_id = id;
	rt_infer_req(&m->u.infer_request, cam, gen, (uint64_t)seq);
	m->u.infer_request.flags = flags;
}

/* Connect (HELLO at the current version) and write n INFER_REQUESTs for frame
 * seq of cam in one write, ids first_id.., all but the first GROUPED. Returns
 * the connection. */
static int write_group(const char *sock, const char *cam, uint64_t gen, int64_t seq, uint64_t first_id, int n)
{
	int fd = rt_raw_connect(sock);
	assert_true(fd >= 0);
	assert_int_equal(rt_raw_hello(fd), 0);
	static struct ruth_ipc_msg m;
	static uint8_t buf[8 * 256];
	assert_true(n >= 1 && n <= 8);
	size_t len = 0;
	for (uint64_t id = first_id; id < first_id + (uint64_t)n; id++) {
		infer_msg(&m, RUTH_IPC_VERSION, id, cam, gen, seq, id == first_id ? 0 : RUTH_IPC_INFER_F_GROUPED);
		int k = ruth_ipc_encode(&m, buf + len, sizeof(buf) - len);
		assert_true(k > 0);
		len += (size_t)k;
	}
	assert_int_equal(ruth_ipc_write_all(fd, buf, len), 0);
	return fd;
}

static void test_grouped(void **state)
{
	(void)state;
	char cam[48];
	struct rt_proc p;
	struct rt_export e;
	/* Two workers: without the flag the second and third request would be
	 * queued and the idle worker woken for them. */
	const char *args[] = { "--workers", "2", NULL };
	int64_t seq = start_with_face(&p, &e, "group", args, cam, sizeof(cam));

	/* Version 2 (the current one): a request and two GROUPED ones in one write. */
	int fd = write_group(p.sock, cam, e.generation, seq, 10, 3);
	static struct ruth_ipc_msg m;
	struct ruth_ipc_infer_response got[3];
	int seen[3] = { 0 };
	for (int i = 0; i < 3; i++) {
		ruth_ipc_msg_init(&m);
		assert_int_equal(rt_raw_recv_msg(fd, &m, 10000), 0);
		assert_int_equal(m.hdr.type, RUTH_IPC_INFER_RESPONSE);
		assert_true(m.hdr.request_id >= 10 && m.hdr.request_id < 13);
		int k = (int)(m.hdr.request_id - 10);
		assert_int_equal(seen[k], 0);
		seen[k] = 1;
		got[k] = m.u.infer_response;
		got[k].detections = NULL;
		fprintf(stderr, "request %d: %s, %u detections, q=%u pre=%u inf=%u post=%u us\n", 10 + k,
			ruth_ipc_status_name(got[k].status), got[k].n_detections, got[k].queue_us,
			got[k].preprocess_us, got[k].infer_us, got[k].postprocess_us);
		assert_int_equal(got[k].status, RUTH_IPC_OK);
		assert_true(got[k].n_detections >= 1);
		assert_int_equal(got[k].frame_seq, (uint64_t)seq);
	}
	/* One thread, in order: each waited for the whole run of the one before
	 * (timings are whole microseconds, hence the slack of 3). */
	for (int k = 1; k < 3; k++) {
		uint32_t prev = got[k - 1].queue_us + got[k - 1].preprocess_us + got[k - 1].infer_us +
				got[k - 1].postprocess_us;
		assert_true(got[k].queue_us + 3 >= prev);
	}

	/* Version 1 has no flags: the same request is refused, the connection stays. */
	int fd1 = rt_raw_connect(p.sock);
	assert_true(fd1 >= 0);
	assert_int_equal(rt_raw_hello_version(fd1, 1), 0); /* HELLO_ACK chose version 1 */
	infer_msg(&m, 1, 20, cam, e.generation, seq, RUTH_IPC_INFER_F_GROUPED);
	assert_int_equal(rt_raw_send_msg(fd1, &m), 0);
	ruth_ipc_msg_init(&m);
	assert_int_equal(rt_raw_recv_msg(fd1, &m, 5000), 0);
	assert_int_equal(m.hdr.request_id, 20);
	assert_int_equal(m.u.infer_response.status, RUTH_IPC_E_BAD_MESSAGE);
	assert_non_null(strstr(m.u.infer_response.message, "flags must be 0 in protocol version 1"));
	infer_msg(&m, 1, 21, cam, e.generation, seq, 0);
	assert_int_equal(rt_raw_send_msg(fd1, &m), 0);
	ruth_ipc_msg_init(&m);
	assert_int_equal(rt_raw_recv_msg(fd1, &m, 10000), 0);
	assert_int_equal(m.u.infer_response.status, RUTH_IPC_OK);
	close(fd1);
	close(fd);
	rt_export_close(&e);

	struct stop_line sl;
	stop_and_read(&p, &sl);
	/* Answered: the group's 3, the refused one and the version 1 one; 2 ran
	 * after the first of their group. */
	assert_int_equal(sl.requests, 5);
	assert_int_equal(sl.grouped, 2);
}

/* A client that writes a group of 8 and hangs up while the first runs: the
 * thread checks the client before each later one of the group, as before a
 * queued job, so the group's rest is skipped and not counted as run. With one
 * worker no other thread reads the connection meanwhile, so without that
 * check all 8 would run. The hang-up comes 0.5 ms after the write: the thread
 * has read the group by then and a Run takes longer (~1.3-2 ms here), so
 * about one request runs; up to 4 leaves room for a much faster CPU. If the
 * thread reads the hang-up together with the group, none runs. */
static void test_grouped_hangup(void **state)
{
	(void)state;
	char cam[48];
	struct rt_proc p;
	struct rt_export e;
	const char *args[] = { "--workers", "1", NULL };
	int64_t seq = start_with_face(&p, &e, "group-hup", args, cam, sizeof(cam));
	int fd = write_group(p.sock, cam, e.generation, seq, 1, 8);
	usleep(500);
	close(fd);
	/* HEALTH is answered by the one worker once the group is done. */
	struct ruth_ipc_health_ack h;
	int idle = rt_wait_idle(p.sock, 20000, &h);
	assert_int_equal(h.inflight, 0);
	assert_int_equal(h.connections, 1);
	assert_int_equal(idle, 0);
	rt_export_close(&e);

	struct stop_line sl;
	stop_and_read(&p, &sl);
	fprintf(stderr, "group of 8, client gone after 0.5 ms: %llu ran, %llu of them after the first\n", sl.requests,
		sl.grouped);
	assert_true(sl.requests <= 4);
	assert_int_equal(sl.grouped, sl.requests ? sl.requests - 1 : 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_mode_and_face),
		cmocka_unit_test(test_busy_poll),
		cmocka_unit_test(test_grouped),
		cmocka_unit_test(test_grouped_hangup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
