/* runtime_harness.c: see runtime_harness.h. */
#include "runtime_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "media.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *rt_bin_dir(void)
{
	const char *e = getenv("RUTH_BIN_DIR");
	return e && *e ? e : "build/bin";
}

const char *rt_models_root(void)
{
	const char *e = getenv("RUTH_MODELS_ROOT");
	return e && *e ? e : "models";
}

const char *rt_media_dir(void)
{
	const char *e = getenv("RUTH_MEDIA_DIR");
	return e && *e ? e : ".cache/media";
}

int rt_tmpdir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "/tmp/rt-%s-XXXXXX", name);
	if (!mkdtemp(buf))
		return -errno;
	chmod(buf, 0755); /* a runtime dropped to nobody must reach the model folders inside */
	return 0;
}

int rt_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[4096];
	int found = 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

void rt_dump_log(const struct rt_proc *p)
{
	FILE *f = fopen(p->log, "r");
	if (!f)
		return;
	char line[4096];
	fprintf(stderr, "---- runtime log %s\n", p->log);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fprintf(stderr, "----\n");
	fclose(f);
}

int rt_alive(struct rt_proc *p)
{
	if (p->exited)
		return 0;
	pid_t r = waitpid(p->pid, &p->status, WNOHANG);
	if (r == p->pid) {
		p->exited = 1;
		return 0;
	}
	return 1;
}

int rt_start_env(struct rt_proc *p, const char *name, const char *model_dir, const char *const *extra_args,
		 const char *const *extra_env, int timeout_ms)
{
	memset(p, 0, sizeof(*p));
	if (rt_tmpdir(p->dir, sizeof(p->dir), name) < 0)
		return -1;
	snprintf(p->sock_dir, sizeof(p->sock_dir), "%s/sock", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/runtime.log", p->dir);
	snprintf(p->out, sizeof(p->out), "%s/runtime.out", p->dir);
	char bin[512];
	snprintf(bin, sizeof(bin), "%s/ruth-model-runtime", rt_bin_dir());
	const char *argv[64];
	size_t n = 0;
	argv[n++] = bin;
	argv[n++] = "--model-dir";
	argv[n++] = model_dir;
	argv[n++] = "--socket-dir";
	argv[n++] = p->sock_dir;
	for (size_t i = 0; extra_args && extra_args[i] && n < 62; i++)
		argv[n++] = extra_args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int lf = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int of = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (lf >= 0)
			dup2(lf, 2);
		if (of >= 0)
			dup2(of, 1);
		for (size_t i = 0; extra_env && extra_env[i]; i++)
			putenv((char *)extra_env[i]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	p->pid = pid;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	while (now_ms() < deadline) {
		if (rt_file_contains(p->log, " READY model=")) {
			/* The socket path is in the READY line; it is <sock_dir>/<id>.sock. */
			FILE *f = fopen(p->log, "r");
			char line[4096];
			while (f && fgets(line, sizeof(line), f)) {
				char *s = strstr(line, " socket=");
				if (strstr(line, " READY model=") && s) {
					s += 8;
					size_t len = strcspn(s, " \n");
					snprintf(p->sock, sizeof(p->sock), "%.*s", (int)len, s);
				}
			}
			if (f)
				fclose(f);
			return 0;
		}
		if (!rt_alive(p))
			return 1;
		usleep(20000);
	}
	return -1;
}

int rt_start(struct rt_proc *p, const char *name, const char *model_dir, const char *const *extra_args)
{
	return rt_start_env(p, name, model_dir, extra_args, NULL, 60000);
}

int rt_wait_exit(struct rt_proc *p, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	while (rt_alive(p)) {
		if (now_ms() > deadline)
			return -1;
		usleep(10000);
	}
	return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) < 0 ? 0 : 0; /* best effort */
}

int rt_stop(struct rt_proc *p)
{
	if (rt_alive(p))
		kill(p->pid, SIGTERM);
	int rc = rt_wait_exit(p, 20000);
	if (rc < 0) {
		kill(p->pid, SIGKILL);
		rt_wait_exit(p, 5000);
	}
	p->sock_left = p->sock[0] && access(p->sock, F_OK) == 0;
	/* A clean run leaves nothing behind; a failed one keeps its log for a look. */
	if (rc == 0 && p->dir[0])
		nftw(p->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* ---------------------------------------------------------------- model folders */
static int copy_file(const char *src, const char *dst)
{
	FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
	if (!in || !out) {
		if (in)
			fclose(in);
		return -1;
	}
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	return 0;
}

int rt_model_dir(char *out, size_t cap, const char *parent, const char *name, const char *gpu,
		 const char *weights_mode, const char *sha)
{
	snprintf(out, cap, "%s/%s", parent, name);
	char path[700];
	if (mkdir(out, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/weights", out);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/weights/model.onnx", out);
	if (strcmp(weights_mode, "copy") == 0) {
		char src[600];
		snprintf(src, sizeof(src), "%s/blazeface-front/weights/face_detection_front_128x128.onnx",
			 rt_models_root());
		if (copy_file(src, path) < 0)
			return -1;
	} else if (strcmp(weights_mode, "garbage") == 0) {
		FILE *f = fopen(path, "wb");
		if (!f)
			return -1;
		for (int i = 0; i < 4096; i++)
			fputc((i * 7919) & 0xff, f);
		fclose(f);
	} /* "missing": no file */
	snprintf(path, sizeof(path), "%s/model.yaml", out);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"model_id: %s\n"
		"model_name: test copy of BlazeFace front\n"
		"model_version: \"1.0.0\"\n"
		"supported_tasks: [face_detection]\n"
		"input_format: NV12\n"
		"expected_resolution: {width: 128, height: 128}\n"
		"resource_requirements:\n"
		"  gpu: %s\n"
		"  gpu_memory_mb: 256\n"
		"  concurrency: 2\n"
		"  intra_op_threads: 1\n"
		"  queue_depth: 8\n"
		"output_schema:\n"
		"  type: detections\n"
		"  labels: [face]\n"
		"  keypoints: [right_eye, left_eye, nose, mouth, right_ear, left_ear]\n"
		"runtime:\n"
		"  backend: onnxruntime\n"
		"  weights: weights/model.onnx\n"
		"%s%s%s"
		"  input: {tensor: \"input:0\", layout: nhwc, dtype: float32, color: rgb, resize: stretch,\n"
		"          scale: 0.00784313725, mean: [1, 1, 1], std: [1, 1, 1]}\n"
		"  postprocess:\n"
		"    name: blazeface\n"
		"    score_threshold: 0.6\n"
		"    nms_iou: 0.3\n"
		"    max_detections: 32\n"
		"    params: {variant: front}\n",
		name, gpu, sha ? "  weights_sha256: " : "", sha ? sha : "", sha ? "\n" : "");
	fclose(f);
	return 0;
}

/* ---------------------------------------------------------------- export */
/* The first frame of path as tightly packed NV12 (stride = width). */
static int decode_image(const char *path, uint8_t **nv12, uint32_t *w, uint32_t *h)
{
	struct kmedia_nv12 f;
	if (kmedia_load_nv12(path, 0, 0, SWS_BILINEAR, nv12, &f) < 0)
		return -1;
	*w = f.width;
	*h = f.height;
	return 0;
}

/* Exports a failed test leaves open (cmocka jumps out of the test) are
 * unlinked at exit, so no /dev/shm/vas.* outlives the test binary. */
static char g_open_exports[16][48];

static void unlink_open_exports(void)
{
	for (size_t i = 0; i < 16; i++)
		if (g_open_exports[i][0]) {
			char name[64];
			snprintf(name, sizeof(name), "/vas.%s", g_open_exports[i]);
			shm_unlink(name);
		}
}

static void track_export(const char *camera_id, int add)
{
	static int registered;
	if (!registered) {
		atexit(unlink_open_exports);
		registered = 1;
	}
	for (size_t i = 0; i < 16; i++) {
		if (add && !g_open_exports[i][0]) {
			snprintf(g_open_exports[i], sizeof(g_open_exports[i]), "%s", camera_id);
			return;
		}
		if (!add && strcmp(g_open_exports[i], camera_id) == 0) {
			g_open_exports[i][0] = '\0';
			return;
		}
	}
}

int rt_export_open_crop(struct rt_export *e, const char *camera_id, const char *image, uint32_t slots,
			const char *group, uint32_t cx, uint32_t cy, uint32_t cw, uint32_t ch)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->camera_id, sizeof(e->camera_id), "%s", camera_id);
	if (decode_image(image, &e->nv12, &e->width, &e->height) < 0) {
		fprintf(stderr, "cannot decode %s\n", image);
		return -1;
	}
	if (cw && ch) {
		/* Even origin and size keep the chroma grid aligned. */
		cx &= ~1u, cy &= ~1u, cw &= ~1u, ch &= ~1u;
		if (cx + cw > e->width || cy + ch > e->height)
			return -1;
		uint8_t *c = malloc((size_t)cw * ch * 3 / 2);
		if (!c)
			return -1;
		const uint8_t *uv = e->nv12 + (size_t)e->width * e->height;
		for (uint32_t y = 0; y < ch; y++)
			memcpy(c + (size_t)y * cw, e->nv12 + (size_t)(cy + y) * e->width + cx, cw);
		for (uint32_t y = 0; y < ch / 2; y++)
			memcpy(c + (size_t)cw * ch + (size_t)y * cw, uv + (size_t)(cy / 2 + y) * e->width + cx, cw);
		free(e->nv12);
		e->nv12 = c;
		e->width = cw;
		e->height = ch;
	}
	struct vas_export_writer_config cfg = {
		.camera_id = e->camera_id,
		.slot_count = slots,
		.max_width = e->width,
		.max_height = e->height,
		.mode = 0640,
		.group = group,
	};
	int r = vas_export_writer_open(&e->w, &cfg);
	if (r < 0) {
		fprintf(stderr, "vas_export_writer_open(%s): %s\n", camera_id, vas_export_strerror(r));
		return -1;
	}
	track_export(e->camera_id, 1);
	return 0;
}

int rt_export_open(struct rt_export *e, const char *camera_id, const char *image, uint32_t slots, const char *group)
{
	return rt_export_open_crop(e, camera_id, image, slots, group, 0, 0, 0, 0);
}

int64_t rt_export_publish(struct rt_export *e)
{
	struct vas_frame_src src = {
		.layout = VAS_SRC_NV12,
		.width = e->width,
		.height = e->height,
		.plane = { e->nv12, e->nv12 + (size_t)e->width * e->height, NULL },
		.stride = { (int32_t)e->width, (int32_t)e->width, 0 },
		.frame_number = (uint64_t)(e->last_seq + 1),
		.pts_us = INT64_MIN,
	};
	int64_t seq = vas_export_writer_publish(e->w, &src);
	if (seq > 0) {
		e->last_seq = seq;
		e->generation = vas_export_writer_generation(e->w);
	}
	return seq;
}

void rt_export_close(struct rt_export *e)
{
	if (e->w)
		track_export(e->camera_id, 0);
	vas_export_writer_close(&e->w);
	free(e->nv12);
	e->nv12 = NULL;
}

/* ---------------------------------------------------------------- raw socket */
int rt_raw_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int rt_raw_send_msg(int fd, struct ruth_ipc_msg *m)
{
	static uint8_t buf[RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY];
	int n = ruth_ipc_encode(m, buf, sizeof(buf));
	if (n < 0)
		return n;
	return ruth_ipc_write_all(fd, buf, (size_t)n);
}

int rt_raw_recv_msg(int fd, struct ruth_ipc_msg *m, int timeout_ms)
{
	uint8_t buf[RUTH_IPC_HEADER_SIZE + 65536];
	size_t len = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (len >= RUTH_IPC_HEADER_SIZE) {
			ruth_ipc_msg_init(m);
			int r = ruth_ipc_decode(buf, len, m);
			if (r != RUTH_IPC_ENEEDMORE)
				return r < 0 ? r : 0;
		}
		int left = (int)(deadline > now_ms() ? deadline - now_ms() : 0);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, left) <= 0)
			return -ETIMEDOUT;
		/* Read exactly what the next message needs, so pipelined replies stay
		 * in the socket for the next call. */
		size_t want = RUTH_IPC_HEADER_SIZE;
		if (len >= RUTH_IPC_HEADER_SIZE) {
			uint32_t bl = (uint32_t)buf[16] | (uint32_t)buf[17] << 8 | (uint32_t)buf[18] << 16 |
				      (uint32_t)buf[19] << 24;
			want = RUTH_IPC_HEADER_SIZE + bl;
			if (want > sizeof(buf))
				return RUTH_IPC_ETOOLARGE;
		}
		ssize_t n = recv(fd, buf + len, want - len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len += (size_t)n;
	}
}

int rt_raw_hello(int fd)
{
	return rt_raw_hello_version(fd, RUTH_IPC_VERSION);
}

int rt_raw_hello_version(int fd, uint16_t max_version)
{
	struct ruth_ipc_msg m;
	ruth_ipc_msg_init(&m);
	m.hdr.type = RUTH_IPC_HELLO;
	m.hdr.version = max_version;
	m.hdr.request_id = 1;
	m.u.hello.min_version = RUTH_IPC_VERSION_MIN;
	m.u.hello.max_version = max_version;
	m.u.hello.client_pid = (uint32_t)getpid();
	snprintf(m.u.hello.client_name, sizeof(m.u.hello.client_name), "runtime-test");
	if (rt_raw_send_msg(fd, &m) < 0)
		return -1;
	if (rt_raw_recv_msg(fd, &m, 5000) < 0 || m.hdr.type != RUTH_IPC_HELLO_ACK ||
	    m.u.hello_ack.version != max_version)
		return -1;
	return 0;
}

int rt_raw_wait_closed(int fd, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	char buf[4096];
	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
			return 0;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		if (n < 0 && errno != EINTR)
			return 1;
	}
	return 0;
}

int rt_wait_idle(const char *sock, int timeout_ms, struct ruth_ipc_health_ack *h)
{
	struct ruth_ipc_client *c = NULL;
	memset(h, 0, sizeof(*h));
	if (ruth_ipc_client_connect(&c, sock, "check", timeout_ms, NULL) != 0)
		return -1;
	int rc = -1;
	for (int i = 0; i < 200; i++) {
		if (ruth_ipc_client_health(c, h, timeout_ms) != 0)
			break;
		if (h->inflight == 0 && h->connections == 1) {
			rc = 0;
			break;
		}
		usleep(50000);
	}
	ruth_ipc_client_close(&c);
	return rc;
}

void rt_infer_req(struct ruth_ipc_infer_request *req, const char *camera, uint64_t gen, uint64_t seq)
{
	memset(req, 0, sizeof(*req));
	snprintf(req->camera_id, sizeof(req->camera_id), "%s", camera);
	req->generation = gen;
	req->frame_seq = seq;
}

int rt_threads_policy(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int policy = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int p = sched_getscheduler((pid_t)atoi(e->d_name)); /* a thread id names that thread */
		if (p < 0)
			continue; /* exited since readdir */
		if (policy >= 0 && p != policy) {
			policy = -2;
			break;
		}
		policy = p;
	}
	closedir(d);
	return policy;
}
