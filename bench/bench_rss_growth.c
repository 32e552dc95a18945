/* bench_rss_growth: memory of a CPU runtime stays flat. blazeface-front with a
 * small frame (a 160x160 crop of messi5.jpg); VmRSS of the runtime after a
 * warm-up of at least 10,000 requests and 20 s, then after 100,000 more (two
 * pipelining clients are not needed: one connection with a window of 8 keeps
 * both workers busy).
 * Why 20 s: about 10 s after the first Run, a background thread of ONNX
 * Runtime (a std::thread in a timed condition wait, there from the session's
 * creation) starts three short-lived threads, once: their stacks, three new
 * malloc arenas and ~300 KiB more of ORT's and libc's code paged in, a
 * one-time step of ~850 KiB (seen with strace and /proc/PID/smaps on
 * 2026-12-07). A warm-up counted in requests alone ended just before it on a
 * machine doing ~1,200 requests/s, and the step read as growth (~900 KiB, then
 * flat for 90,000 requests); with the warm-up past it the 100,000 requests grow
 * RSS by 20-64 KiB (three runs). The tenths on stderr tell a step from a leak either way.
 *   BENCH rss_growth_100k value=<growth KiB> unit=KiB baseline=<KiB after warm-up> ratio=<after/before> target=1024
 * Environment RUTH_RSS_REQUESTS overrides the 100,000 (for a quick run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "runtime_harness.h"

#define WINDOW 8
#define WARMUP 10000    /* at least this many requests ... */
#define WARMUP_NS 20000000000ull /* ... and at least this long since the runtime was ready (see above) */

static long vmrss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* "RssAnon/RssFile/RssShmem" of pid, for telling heap growth from mapped files. */
static void rss_parts(pid_t pid, char *buf, size_t cap)
{
	char path[64], line[256];
	long a = -1, f = -1, sh = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		if (strncmp(line, "RssAnon:", 8) == 0)
			a = strtol(line + 8, NULL, 10);
		else if (strncmp(line, "RssFile:", 8) == 0)
			f = strtol(line + 8, NULL, 10);
		else if (strncmp(line, "RssShmem:", 9) == 0)
			sh = strtol(line + 9, NULL, 10);
	}
	if (fp)
		fclose(fp);
	snprintf(buf, cap, "anon %ld, file %ld, shmem %ld KiB", a, f, sh);
}

static int run(struct ruth_ipc_client *c, const char *cam, uint64_t gen, uint64_t seq, long n)
{
	static struct ruth_ipc_msg m;
	long sent = 0, got = 0;
	while (got < n) {
		while (sent < n && sent - got < WINDOW) {
			ruth_ipc_msg_init(&m);
			m.hdr.type = RUTH_IPC_INFER_REQUEST;
			m.hdr.version = RUTH_IPC_VERSION;
			m.hdr.request_id = (uint64_t)sent + 1;
			rt_infer_req(&m.u.infer_request, cam, gen, seq);
			if (ruth_ipc_client_send(c, &m) < 0)
				return -1;
			sent++;
		}
		ruth_ipc_msg_init(&m);
		if (ruth_ipc_client_recv(c, &m, 20000) < 0 || m.u.infer_response.status != RUTH_IPC_OK) {
			fprintf(stderr, "reply %ld: %s %s\n", got, ruth_ipc_status_name(m.u.infer_response.status),
				m.u.infer_response.message);
			return -1;
		}
		got++;
	}
	return 0;
}

int main(void)
{
	long n = 100000;
	const char *e = getenv("RUTH_RSS_REQUESTS");
	if (e && atol(e) > 0)
		n = atol(e);
	char model[600], img[600], cam[48];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(cam, sizeof(cam), "bench-rss-%d", (int)getpid());
	struct rt_export ex;
	if (rt_export_open_crop(&ex, cam, img, 4, NULL, 160, 34, 160, 160) < 0)
		return 1;
	uint64_t seq = (uint64_t)rt_export_publish(&ex);
	const char *args[] = { "--force-cpu", NULL };
	struct rt_proc p;
	if (rt_start(&p, "bench-rss", model, args) != 0) {
		rt_dump_log(&p);
		return 1;
	}
	struct ruth_ipc_client *c = NULL;
	if (ruth_ipc_client_connect(&c, p.sock, "bench_rss_growth", 5000, NULL) < 0)
		return 1;
	const uint64_t t_start = kclock_mono_ns();
	long warm = 0;
	while (warm < WARMUP || kclock_mono_ns() - t_start < WARMUP_NS) {
		if (run(c, cam, ex.generation, seq, 1000) < 0)
			return 1;
		warm += 1000;
	}
	long before = vmrss_kib(p.pid);
	char parts0[128];
	rss_parts(p.pid, parts0, sizeof(parts0));
	fprintf(stderr, "after warm-up (%ld requests, %.1f s): VmRSS %ld KiB (%s)\n", warm,
		(double)(kclock_mono_ns() - t_start) / 1e9, before, parts0);
	uint64_t t0 = kclock_mono_ns();
	/* In tenths, so a plateau (arena growth that stops) can be told from a leak. */
	for (int part = 0; part < 10; part++) {
		if (run(c, cam, ex.generation, seq, n / 10 + (part == 9 ? n % 10 : 0)) < 0)
			return 1;
		char parts[128];
		rss_parts(p.pid, parts, sizeof(parts));
		fprintf(stderr, "after %ld requests: VmRSS %ld KiB (%s)\n", (n / 10) * (part + 1), vmrss_kib(p.pid), parts);
	}
	double secs = (double)(kclock_mono_ns() - t0) / 1e9;
	long after = vmrss_kib(p.pid);
	ruth_ipc_client_close(&c);
	rt_stop(&p);
	rt_export_close(&ex);
	fprintf(stderr, "%ld requests in %.1f s (%.0f/s); VmRSS %ld -> %ld KiB\n", n, secs, (double)n / secs, before,
		after);
	printf("BENCH rss_growth_100k value=%ld unit=KiB baseline=%ld ratio=%.4f target=1024\n", after - before, before,
	       (double)after / (double)before);
	return 0;
}
