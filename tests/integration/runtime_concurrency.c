/* runtime_concurrency: two clients x 200 pipelined requests against one CPU
 * runtime: every request is answered exactly once (by id), and every answer
 * equals the single-threaded answer for the same frame, bit for bit. Then a
 * tiny queue: excess requests get BUSY at once, still exactly one answer each. */
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime_harness.h"

#define N_REQ 200
#define WINDOW 16

struct expect {
	char camera[48];
	uint64_t gen, seq;
	uint32_t n;
	struct ruth_ipc_detection dets[RUTH_IPC_MAX_DETECTIONS];
};

static struct expect g_exp[2];
static const char *g_sock;

struct client_result {
	int id;
	int answered[N_REQ];
	int mismatches, errors, busy, ok;
};

static int same_answer(const struct ruth_ipc_infer_response *r, const struct expect *e)
{
	if (r->status != RUTH_IPC_OK || r->n_detections != e->n || r->frame_seq != e->seq)
		return 0;
	return memcmp(r->detections, e->dets, e->n * sizeof(e->dets[0])) == 0;
}

static void *client_main(void *arg)
{
	struct client_result *res = arg;
	struct ruth_ipc_client *c = NULL;
	if (ruth_ipc_client_connect(&c, g_sock, "concurrency", 5000, NULL) < 0) {
		res->errors++;
		return NULL;
	}
	static __thread struct ruth_ipc_msg m;
	int sent = 0, got = 0;
	while (got < N_REQ) {
		while (sent < N_REQ && sent - got < WINDOW) {
			const struct expect *e = &g_exp[sent % 2];
			ruth_ipc_msg_init(&m);
			m.hdr.type = RUTH_IPC_INFER_REQUEST;
			m.hdr.version = RUTH_IPC_VERSION;
			m.hdr.request_id = 1000u * (uint64_t)(res->id + 1) + (uint64_t)sent;
			rt_infer_req(&m.u.infer_request, e->camera, e->gen, e->seq);
			if (ruth_ipc_client_send(c, &m) < 0) {
				res->errors++;
				goto out;
			}
			sent++;
		}
		ruth_ipc_msg_init(&m);
		if (ruth_ipc_client_recv(c, &m, 20000) < 0 || m.hdr.type != RUTH_IPC_INFER_RESPONSE) {
			res->errors++;
			goto out;
		}
		uint64_t idx = m.hdr.request_id - 1000u * (uint64_t)(res->id + 1);
		if (idx >= N_REQ) {
			res->errors++;
			goto out;
		}
		res->answered[idx]++;
		got++;
		if (m.u.infer_response.status == RUTH_IPC_E_BUSY)
			res->busy++;
		else if (same_answer(&m.u.infer_response, &g_exp[idx % 2]))
			res->ok++;
		else
			res->mismatches++;
	}
out:
	ruth_ipc_client_close(&c);
	return NULL;
}

static void single_answer(struct ruth_ipc_client *c, struct expect *e)
{
	static struct ruth_ipc_msg reply;
	struct ruth_ipc_infer_request req;
	rt_infer_req(&req, e->camera, e->gen, e->seq);
	ruth_ipc_msg_init(&reply);
	assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 10000), 0);
	assert_int_equal(reply.u.infer_response.status, RUTH_IPC_OK);
	e->n = reply.u.infer_response.n_detections;
	memcpy(e->dets, reply.u.infer_response.detections, e->n * sizeof(e->dets[0]));
}

static void run_clients(struct client_result *res, int n)
{
	pthread_t th[2];
	for (int i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].id = i;
		pthread_create(&th[i], NULL, client_main, &res[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static void test_two_clients(void **state)
{
	(void)state;
	char model[600], img[600], img2[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(img2, sizeof(img2), "%s/fruits.jpg", rt_media_dir());

	struct rt_export e1, e2;
	snprintf(g_exp[0].camera, sizeof(g_exp[0].camera), "rt-conc-a-%d", (int)getpid());
	snprintf(g_exp[1].camera, sizeof(g_exp[1].camera), "rt-conc-b-%d", (int)getpid());
	assert_int_equal(rt_export_open_crop(&e1, g_exp[0].camera, img, 4, NULL, 160, 34, 160, 160), 0);
	assert_int_equal(rt_export_open(&e2, g_exp[1].camera, img2, 4, NULL), 0);
	g_exp[0].seq = (uint64_t)rt_export_publish(&e1);
	g_exp[0].gen = e1.generation;
	g_exp[1].seq = (uint64_t)rt_export_publish(&e2);
	g_exp[1].gen = e2.generation;

	const char *args[] = { "--workers", "2", "--queue-depth", "128", NULL };
	struct rt_proc p;
	assert_int_equal(rt_start(&p, "conc", model, args), 0);
	g_sock = p.sock;
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, p.sock, "single", 5000, NULL), 0);
	single_answer(c, &g_exp[0]);
	single_answer(c, &g_exp[1]);
	assert_true(g_exp[0].n >= 1); /* the face */

	struct client_result res[2];
	run_clients(res, 2);
	for (int i = 0; i < 2; i++) {
		fprintf(stderr, "client %d: ok %d busy %d mismatches %d errors %d\n", i, res[i].ok, res[i].busy,
			res[i].mismatches, res[i].errors);
		assert_int_equal(res[i].errors, 0);
		assert_int_equal(res[i].mismatches, 0);
		assert_int_equal(res[i].busy, 0);
		assert_int_equal(res[i].ok, N_REQ);
		for (int k = 0; k < N_REQ; k++)
			assert_int_equal(res[i].answered[k], 1);
	}
	struct ruth_ipc_health_ack h;
	assert_int_equal(ruth_ipc_client_health(c, &h, 5000), 0);
	assert_int_equal(h.requests_total, 2 * N_REQ + 2);
	assert_int_equal(h.requests_failed, 0);
	assert_int_equal(h.inflight, 0);
	ruth_ipc_client_close(&c);
	assert_int_equal(rt_stop(&p), 0);

	/* Tiny queue: one worker, queue of one; the window of 16 overflows it. */
	const char *args2[] = { "--workers", "1", "--queue-depth", "1", NULL };
	assert_int_equal(rt_start(&p, "busy", model, args2), 0);
	g_sock = p.sock;
	run_clients(res, 2);
	int busy = 0;
	for (int i = 0; i < 2; i++) {
		fprintf(stderr, "tiny queue client %d: ok %d busy %d mismatches %d errors %d\n", i, res[i].ok,
			res[i].busy, res[i].mismatches, res[i].errors);
		assert_int_equal(res[i].errors, 0);
		assert_int_equal(res[i].mismatches, 0);
		assert_int_equal(res[i].ok + res[i].busy, N_REQ);
		for (int k = 0; k < N_REQ; k++)
			assert_int_equal(res[i].answered[k], 1);
		busy += res[i].busy;
	}
	assert_true(busy > 0);
	assert_int_equal(rt_stop(&p), 0);
	rt_export_close(&e1);
	rt_export_close(&e2);
}

/* SIGTERM with requests in flight: each one still gets exactly one answer
 * (its result, or BUSY once shutting down), then a clean close and exit 0. */
static void test_sigterm_with_inflight(void **state)
{
	(void)state;
	char model[600], img[600], cam[48];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(cam, sizeof(cam), "rt-term-%d", (int)getpid());
	struct rt_export e;
	assert_int_equal(rt_export_open_crop(&e, cam, img, 4, NULL, 160, 34, 160, 160), 0);
	uint64_t seq = (uint64_t)rt_export_publish(&e);
	const char *args[] = { "--workers", "1", "--queue-depth", "32", NULL };
	struct rt_proc p;
	assert_int_equal(rt_start(&p, "term", model, args), 0);
	int fd = rt_raw_connect(p.sock);
	assert_true(fd >= 0);
	assert_int_equal(rt_raw_hello(fd), 0);
	static struct ruth_ipc_msg m;
	enum { NQ = 40 };
	for (int i = 0; i < NQ; i++) {
		ruth_ipc_msg_init(&m);
		m.hdr.type = RUTH_IPC_INFER_REQUEST;
		m.hdr.version = RUTH_IPC_VERSION;
		m.hdr.request_id = 500 + (uint64_t)i;
		rt_infer_req(&m.u.infer_request, cam, e.generation, seq);
		assert_int_equal(rt_raw_send_msg(fd, &m), 0);
		if (i == NQ / 2)
			kill(p.pid, SIGTERM);
	}
	int seen[NQ] = { 0 }, ok = 0, busy = 0;
	for (int i = 0; i < NQ; i++) {
		ruth_ipc_msg_init(&m);
		int r = rt_raw_recv_msg(fd, &m, 10000);
		if (r < 0)
			break;
		assert_int_equal(m.hdr.type, RUTH_IPC_INFER_RESPONSE);
		uint64_t k = m.hdr.request_id - 500;
		assert_true(k < NQ);
		seen[k]++;
		if (m.u.infer_response.status == RUTH_IPC_OK)
			ok++;
		else if (m.u.infer_response.status == RUTH_IPC_E_BUSY)
			busy++;
	}
	fprintf(stderr, "shutdown with %d in flight: %d answered OK, %d BUSY\n", NQ, ok, busy);
	for (int i = 0; i < NQ; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(ok + busy, NQ);
	assert_true(rt_raw_wait_closed(fd, 10000));
	close(fd);
	assert_int_equal(rt_wait_exit(&p, 20000), 0);
	assert_int_not_equal(access(p.sock, F_OK), 0);
	assert_int_equal(rt_stop(&p), 0); /* already gone: reaps nothing, cleans up */
	rt_export_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_clients),
		cmocka_unit_test(test_sigterm_with_inflight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
