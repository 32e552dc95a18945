/* core.c: ruth-ai-core's event loop. One thread: poll() over the model runtime
 * connections and the control socket, with a timeout set by whatever is due
 * next: an FPS tick, a reconnect, a handshake or request deadline, the stream
 * agents' evaluation (when no tick came for 400 ms). Nothing else wakes the
 * process (the results flush rides on these wake-ups): on these 2-vCPU VMs one
 * wake-up alone costs ~20 us of CPU, of the same order as the core's whole work
 * per inference.
 * Stream agents are evaluated every 200-400 ms (AGENT_POLL_NS: a few atomic
 * loads of the export header and, at most every 100 ms per camera inside the
 * reader, a stat of the shm name); the newest seq is also read fresh at every
 * tick. The core never reads pixels, only the header and, at selection, the
 * slot metadata. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "core.h"
#include "sd_notify.h"

#define AGENT_REOPEN_NS (200ull * 1000000ull)
/* Full agent evaluation (export present, generation, stall, writer alive) on the
 * first wake-up at least 200 ms after the previous one; it forces a wake-up of
 * its own only when nothing else woke the core for 400 ms (no live tick). That
 * bounds the reaction to vasd appearing, leaving or restarting to 400 ms (stall_ms
 * is at least 50 ms and usually seconds) and costs no wake-up while ticks run.
 * Ticks do not wait for it: they read the newest seq themselves. */
#define AGENT_POLL_NS (200ull * 1000000ull)
#define AGENT_POLL_MAX_NS (400ull * 1000000ull)
#define DEADLINE_GRACE_NS (200ull * 1000000ull)
/* Results lines are buffered (c->rout, up to RESULTS_BUF_SIZE) and written at
 * most this long after the first unwritten one, on a wake-up that happens
 * anyway (before a sleep that would pass the flush time): one write() per
 * ~100 ms instead of one per result, and no wake-up of its own. A reader of the
 * results file or pipe sees a line <= 100 ms late, and only whole lines. */
#define RESULTS_FLUSH_NS (100ull * 1000000ull)
#define RESULTS_BUF_SIZE (64u * 1024u)

static void results_flush(struct core *c);

int core_find_model(const struct core *c, const char *id)
{
	for (size_t i = 0; i < c->n_models; i++)
		if (!strcmp(c->models[i].id, id))
			return (int)i;
	return -1;
}

static int find_sub(const struct core *c, int cam, int model)
{
	for (int i = 0; i < c->subs_hwm; i++)
		if (c->subs[i].used && c->subs[i].cam == cam && c->subs[i].model == model)
			return i;
	return -1;
}

const char *core_sub_state(const struct core *c, const struct core_sub *s)
{
	const struct core_camera *cam = &c->cams[s->cam];
	const struct model_conn *m = &c->models[s->model];
	if (m->state != MODEL_READY)
		return "model_unavailable";
	if (cam->agent.state == AGENT_WAITING)
		return "waiting_for_export";
	if (cam->agent.state == AGENT_STALLED)
		return "stalled";
	return "active";
}

static void models_list(const struct core *c, char *buf, size_t cap)
{
	buf[0] = 0;
	for (size_t i = 0; i < c->n_models; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "%s%s", i ? ", " : "", c->models[i].id);
	}
	if (!c->n_models)
		snprintf(buf, cap, "none");
}

int core_sub_add(struct core *c, const char *camera, const char *model, double fps, float threshold,
		 uint32_t max_results, uint32_t max_inflight, char *err, size_t errlen)
{
	int cam = core_config_camera_index(&c->cfg, camera);
	if (cam < 0) {
		char known[1024] = "";
		for (size_t i = 0; i < c->n_cams; i++) {
			size_t l = strlen(known);
			snprintf(known + l, sizeof(known) - l, "%s%s", i ? ", " : "", c->cams[i].id);
		}
		snprintf(err, errlen, "unknown camera '%s' (configured cameras: %s)", camera,
			 c->n_cams ? known : "none");
		return -1;
	}
	int mi = core_find_model(c, model);
	if (mi < 0) {
		char known[1024];
		models_list(c, known, sizeof(known));
		snprintf(err, errlen, "unknown model '%s' (discovered under %s: %s)", model, c->cfg.models_root,
			 known);
		return -1;
	}
	if (!(fps > 0 && fps <= CORE_FPS_MAX)) {
		snprintf(err, errlen, "fps must be in (0, %g]; got %g", CORE_FPS_MAX, fps);
		return -1;
	}
	if (threshold > 1) {
		snprintf(err, errlen, "threshold must be in [0, 1]; got %g", (double)threshold);
		return -1;
	}
	uint64_t now = kclock_mono_ns();
	int si = find_sub(c, cam, mi);
	if (si >= 0) {
		struct core_sub *s = &c->subs[si];
		fps_gate_set_fps(&s->gate, fps, now);
		if (max_inflight)
			fps_gate_set_max_inflight(&s->gate, max_inflight);
		if (threshold >= 0)
			s->score_threshold = threshold;
		if (max_results)
			s->max_results = max_results;
		KLOG_INFO(&c->log, "subscription %s/%s updated: fps=%g threshold=%g", camera, model, fps,
			  (double)s->score_threshold);
		return 1;
	}
	for (si = 0; si < CORE_MAX_SUBS && c->subs[si].used; si++)
		;
	if (si == CORE_MAX_SUBS) {
		snprintf(err, errlen, "too many subscriptions (max %d)", CORE_MAX_SUBS);
		return -1;
	}
	struct core_sub *s = &c->subs[si];
	memset(s, 0, sizeof(*s));
	if (si + 1 > c->subs_hwm)
		c->subs_hwm = si + 1;
	s->used = true;
	s->serial = ++c->sub_serial;
	s->cam = cam;
	s->model = mi;
	s->score_threshold = threshold >= 0 ? threshold : 0;
	s->max_results = max_results;
	fps_gate_init(&s->gate, fps, max_inflight ? max_inflight : 1);
	/* Spread the model's subscriptions over the period: the k-th one of a model
	 * starts at frac(k * golden ratio) of a period (even spacing for any count). */
	struct model_conn *m = &c->models[mi];
	double frac = (double)m->n_subs_added * 0.6180339887498949;
	frac -= (double)(uint64_t)frac;
	m->n_subs_added++;
	fps_gate_set_phase(&s->gate, now + (uint64_t)(frac * (double)s->gate.period_ns));
	model_conn_want(c, m, now);
	KLOG_INFO(&c->log, "subscription %s/%s added: fps=%g max_inflight=%u", camera, model, fps,
		  s->gate.max_inflight);
	return 0;
}

int core_sub_remove(struct core *c, const char *camera, const char *model, char *err, size_t errlen)
{
	int cam = core_config_camera_index(&c->cfg, camera);
	int mi = core_find_model(c, model);
	int si = cam >= 0 && mi >= 0 ? find_sub(c, cam, mi) : -1;
	if (si < 0) {
		snprintf(err, errlen, "no subscription %s/%s%s", camera, model,
			 cam < 0 ? " (unknown camera)" : mi < 0 ? " (unknown model)" : "");
		return -1;
	}
	c->subs[si].used = false; /* requests in flight still report, then are forgotten */
	KLOG_INFO(&c->log, "subscription %s/%s removed", camera, model);
	return 0;
}

int core_init(struct core *c, const struct core_config *cfg, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->ctl_fd = -1;
	c->results_fd = -1;
	for (int i = 0; i < CORE_MAX_CTL_CLIENTS; i++)
		c->ctl_clients[i] = -1;
	klog_ctx_init(&c->log, "ruth-ai-core", "%s", "");
	c->started_ns = kclock_mono_ns();
	c->rng = c->started_ns ^ ((uint64_t)getpid() << 32);
	c->next_request_id = 1;
	c->pending_lo = 1;
	c->msg = calloc(1, sizeof(*c->msg));
	if (!c->msg) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = ruth_models_discover(cfg->models_root, &c->models_found);
	if (rc < 0) {
		snprintf(err, errlen, "models_root '%s': cannot scan: %s", cfg->models_root, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < c->models_found.n_invalid; i++)
		KLOG_WARN(&c->log, "invalid model folder %s: %s", c->models_found.invalid[i].path,
			  c->models_found.invalid[i].error);
	for (size_t i = 0; i < c->models_found.n_models && c->n_models < CORE_MAX_MODELS; i++) {
		const struct ruth_model_config *mc = &c->models_found.models[i];
		model_conn_init(&c->models[c->n_models++], mc->model_id, mc, cfg->socket_dir,
				cfg->reconnect_initial_ms);
	}
	KLOG_INFO(&c->log, "discovered %zu model(s) under %s (%zu invalid)", c->n_models, cfg->models_root,
		  c->models_found.n_invalid);
	uint64_t now = kclock_mono_ns();
	for (size_t i = 0; i < cfg->n_cameras; i++) {
		struct core_camera *cam = &c->cams[c->n_cams++];
		snprintf(cam->id, sizeof(cam->id), "%s", cfg->cameras[i]);
		stream_agent_init(&cam->agent, (uint64_t)cfg->stall_ms * 1000000ull, now);
		klog_ctx_init(&cam->log, "ruth-ai-core", "cam=%s", cam->id);
	}
	/* Subscriptions from the file: a model that discovery did not find is a config error. */
	for (size_t i = 0; i < cfg->n_subs; i++) {
		const struct core_sub_config *sc = &cfg->subs[i];
		if (core_find_model(c, sc->model) < 0) {
			char known[1024];
			models_list(c, known, sizeof(known));
			snprintf(err, errlen,
				 "%s:%d: field 'subscriptions[%zu].model': model '%s' not found under models_root '%s' (found: %s)",
				 cfg->path, sc->model_line, i, sc->model, cfg->models_root, known);
			return -ENOENT;
		}
		char e2[512];
		if (core_sub_add(c, sc->camera, sc->model, sc->fps, sc->score_threshold, sc->max_results,
				 sc->max_inflight, e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "%s: subscriptions[%zu]: %s", cfg->path, i, e2);
			return -EINVAL;
		}
	}
	c->results_fd = STDOUT_FILENO;
	if (cfg->results[0]) {
		c->results_fd = open(cfg->results, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (c->results_fd < 0) {
			int e = errno;
			c->results_fd = -1;
			snprintf(err, errlen, "results '%s': %s", cfg->results, strerror(e));
			return -e;
		}
		c->results_own = true;
	}
	if (cfg->control_socket[0]) {
		rc = control_open(c, cfg->control_socket);
		if (rc < 0) {
			snprintf(err, errlen, "control_socket '%s': %s", cfg->control_socket, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void core_fini(struct core *c)
{
	uint64_t now = kclock_mono_ns();
	c->stopping = true;
	for (size_t i = 0; i < c->n_models; i++) {
		struct model_conn *m = &c->models[i];
		if (m->fd >= 0)
			model_conn_close(c, m, "ruth-ai-core shutting down", now);
		free(m->rbuf);
		free(m->wbuf);
	}
	for (size_t i = 0; i < c->n_cams; i++)
		vas_export_reader_close(&c->cams[i].rd);
	control_close(c);
	if (c->results_dirty)
		results_flush(c);
	if (c->results_own && c->results_fd >= 0)
		close(c->results_fd);
	c->results_fd = -1;
	ruth_model_list_fini(&c->models_found);
	free(c->rout.p);
	c->rout.p = NULL;
	free(c->msg);
	c->msg = NULL;
}

/* Write every buffered line. A write error (EPIPE: nobody reads stdout; ENOSPC)
 * drops what is buffered, is logged (rate-limited) and never stops the core. */
static void results_flush(struct core *c)
{
	size_t off = 0;
	while (off < c->rout.len && c->results_fd >= 0) {
		ssize_t w = write(c->results_fd, c->rout.p + off, c->rout.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			klog_ratelimited(&c->log, &c->results_rl, 1, 10000, KLOG_WARN,
					 "results: write failed: %s; %zu bytes dropped",
					 w < 0 ? strerror(errno) : "no progress", c->rout.len - off);
			break;
		}
		off += (size_t)w;
	}
	c->rout.len = 0;
	c->results_dirty = false;
}

void core_results_line_done(struct core *c, uint64_t now)
{
	c->results_written++;
	if (!c->results_dirty) {
		c->results_dirty = true;
		c->results_flush_ns = now + RESULTS_FLUSH_NS;
	}
	if (c->rout.len >= RESULTS_BUF_SIZE)
		results_flush(c);
}

/* ---------------------------------------------------------------- agents */

static void camera_poll(struct core *c, struct core_camera *cam, uint64_t now)
{
	struct agent_obs o = { 0 };
	if (cam->rd && vas_export_reader_check(cam->rd) != 0) {
		KLOG_INFO(&cam->log, "export retired or replaced; reopening");
		vas_export_reader_close(&cam->rd);
		cam->next_open_ns = 0;
	}
	if (!cam->rd && now >= cam->next_open_ns) {
		int rc = vas_export_reader_open(&cam->rd, cam->id);
		if (rc < 0) {
			cam->rd = NULL;
			cam->next_open_ns = now + AGENT_REOPEN_NS;
			if (rc != -ENOENT)
				klog_ratelimited(&cam->log, &cam->open_rl, 1, 10000, KLOG_WARN,
						 "cannot open export: %s", vas_export_strerror(rc));
		}
	}
	if (cam->rd) {
		struct vas_export_info info;
		if (vas_export_reader_info(cam->rd, &info) == 0) {
			o.present = !(info.flags & VAS_EXPORT_F_RETIRED);
			o.generation = info.generation;
			o.newest_seq = info.newest_seq;
			o.heartbeat_ns = info.heartbeat_ns;
			/* Only a silent writer is checked for life (kill -9 leaves the object behind). */
			o.writer_alive = true;
			if (info.heartbeat_ns && now > info.heartbeat_ns &&
			    now - info.heartbeat_ns > (uint64_t)c->cfg.stall_ms * 1000000ull)
				o.writer_alive = info.writer_pid > 0 &&
						 (kill(info.writer_pid, 0) == 0 || errno == EPERM);
			cam->writer_pid = info.writer_pid;
		}
	}
	unsigned ev = stream_agent_observe(&cam->agent, &o, now);
	if (ev & AGENT_EV_GONE) {
		KLOG_WARN(&cam->log, "export gone; waiting for it");
		vas_export_reader_close(&cam->rd);
		cam->next_open_ns = now + AGENT_REOPEN_NS;
	}
	if (ev & AGENT_EV_APPEARED)
		KLOG_INFO(&cam->log, "export present: generation=%" PRIu64 " newest_seq=%" PRIu64, o.generation,
			  o.newest_seq);
	if (ev & AGENT_EV_NEW_GENERATION)
		KLOG_INFO(&cam->log, "new export generation %" PRIu64, o.generation);
	if (ev & AGENT_EV_STALLED)
		KLOG_WARN(&cam->log, "stalled: no new frame for %u ms (writer heartbeat age %" PRIu64 " ms)",
			  c->cfg.stall_ms, cam->agent.heartbeat_age_ns / 1000000);
	if (ev & AGENT_EV_RESUMED)
		KLOG_INFO(&cam->log, "frames flowing again");
}

/* ---------------------------------------------------------------- subscriptions */

/* A subscription's tick slack: tick_slack_ms, at most a quarter of its period
 * (fps_gate_poll_early wants less than half). */
static uint64_t sub_slack_ns(const struct core *c, const struct core_sub *s)
{
	uint64_t slack = (uint64_t)c->cfg.tick_slack_ms * 1000000ull;
	return slack < s->gate.period_ns / 4 ? slack : s->gate.period_ns / 4;
}

/* Evaluate subscription si's gate at now and send its request if it selects a
 * frame. early_ns > 0: the tick may be up to that far ahead (fps_gate_poll_early;
 * nothing happens unless a frame can be sent). flags: the request's
 * RUTH_IPC_INFER_F_* (early_ticks' groups). Returns true if a request went. */
static bool sub_poll(struct core *c, int si, uint64_t now, uint64_t early_ns, uint32_t flags)
{
	struct core_sub *s = &c->subs[si];
	struct core_camera *cam = &c->cams[s->cam];
	struct model_conn *m = &c->models[s->model];
	if (cam->agent.state == AGENT_WAITING || !cam->rd)
		return false;
	if (fps_gate_time_to_next(&s->gate, now) > early_ns)
		return false;
	/* The agent is evaluated every 200-400 ms; the newest seq is read fresh at the tick. */
	uint64_t newest = vas_export_reader_newest(cam->rd);
	if (newest > cam->agent.newest_seq && cam->agent.state != AGENT_WAITING) {
		cam->agent.frames_seen += newest - cam->agent.newest_seq;
		cam->agent.newest_seq = newest;
		cam->agent.last_advance_ns = now;
	}
	uint64_t seq = 0;
	bool slot_free = !c->pending[c->next_request_id % CORE_PENDING_CAP].used;
	enum fps_gate_decision d = fps_gate_poll_early(&s->gate, now, early_ns, cam->agent.newest_seq,
						       cam->agent.generation, model_conn_available(m) && slot_free,
						       &seq);
	if (d != FPS_GATE_SELECT)
		return false;
	uint64_t id = c->next_request_id++;
	struct core_pending *p = &c->pending[id % CORE_PENDING_CAP];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->request_id = id;
	p->sub = si;
	p->sub_serial = s->serial;
	p->model = s->model;
	p->cam = s->cam;
	p->fps = s->gate.fps;
	p->t_selected_ns = now;
	p->meta.seq = seq;
	p->meta.generation = cam->agent.generation;
	/* Only the slot's metadata (frame number, pts, capture times); never the pixels. */
	struct vas_frame_view view;
	if (vas_export_reader_peek(cam->rd, seq, &view) == 0) {
		p->meta = view.meta;
		p->meta_valid = true;
	}
	struct ruth_ipc_infer_request req;
	memset(&req, 0, sizeof(req));
	_Static_assert(sizeof(req.camera_id) >= sizeof(cam->id), "camera ids fit the request");
	memcpy(req.camera_id, cam->id, sizeof(cam->id)); /* NUL-terminated, zero-padded */
	req.generation = p->meta.generation;
	req.frame_seq = seq;
	p->deadline_ns = now + (uint64_t)c->cfg.request_timeout_ms * 1000000ull;
	req.deadline_ns = p->deadline_ns;
	req.score_threshold = s->score_threshold;
	req.max_results = s->max_results;
	req.flags = flags;
	c->n_pending++;
	if (model_conn_send_infer(c, m, id, &req) < 0) {
		p->used = false;
		c->n_pending--;
		fps_gate_cancel(&s->gate);
		return false;
	}
	p->t_sent_ns = kclock_mono_ns();
	s->sent++;
	if (!c->earliest_deadline_ns || p->deadline_ns < c->earliest_deadline_ns)
		c->earliest_deadline_ns = p->deadline_ns;
	return true;
}

/* Tick slack (docs/core.md): a model whose connection has nothing in flight
 * takes, now, the request of its subscription whose tick is nearest, if that
 * tick is within the subscription's slack and a new frame is there. On the
 * wake-up that reads an answer this sends the next request at once, so one
 * wake-up serves both, where each inference otherwise costs the core two (the
 * tick's timer and the answer; ~15 us of CPU each on a 2-vCPU VM). Only an
 * idle connection is fed early: nothing else waits in the runtime behind an
 * early request, so no other subscription's latency grows and the runtime
 * never answers BUSY to it. The rate stays exact (the gate's grid does not
 * move); a selection is at most the slack earlier than its tick.
 *
 * Groups (tick_group, protocol version 2): after the nearest, the next
 * nearest ticks within their slack go too, up to tick_group requests in one
 * write, all but the first flagged GROUPED. The runtime runs a group on one
 * thread, one after another, and answers it in one write, so a group costs
 * each side one wake-up instead of one per request. Its requests were early
 * anyway, so running them in sequence (a few Runs) stays inside the slack
 * they had; a second group is never sent while one is in flight. */
static void early_ticks(struct core *c, uint64_t now)
{
	for (size_t mi = 0; mi < c->n_models; mi++) {
		struct model_conn *m = &c->models[mi];
		if (m->state != MODEL_READY || m->inflight != 0)
			continue;
		uint32_t group_max = model_conn_can_group(m) ? c->cfg.tick_group : 1;
		uint32_t sent = 0;
		/* Candidates in order of their tick; one that cannot send (no new frame)
		 * hands over to the next. Bounded: each pass moves past one tick, and at
		 * most 4 of them fail. */
		uint64_t after = 0;
		int after_i = -1, fails = 0;
		c->defer_flush = true;
		while (sent < group_max && fails < 4 && m->state == MODEL_READY) {
			int best = -1;
			uint64_t best_t = 0;
			for (int i = 0; i < c->subs_hwm; i++) {
				const struct core_sub *s = &c->subs[i];
				if (!s->used || s->model != (int)mi)
					continue;
				uint64_t t = fps_gate_time_to_next(&s->gate, now);
				if (!t || t > sub_slack_ns(c, s) || t < after || (t == after && i <= after_i))
					continue;
				if (best < 0 || t < best_t) {
					best = i;
					best_t = t;
				}
			}
			if (best < 0)
				break;
			if (sub_poll(c, best, now, best_t, sent ? RUTH_IPC_INFER_F_GROUPED : 0))
				sent++;
			else
				fails++;
			after = best_t;
			after_i = best;
		}
		c->defer_flush = false;
		model_conn_flush(m);
	}
}

/* Scans only when the earliest deadline (a lower bound: completed requests are
 * not removed from it) has passed, and recomputes it: at most one scan per
 * request_timeout_ms in normal operation. The scan covers request ids
 * [pending_lo, next_request_id) only: ids are handed out in order, a request
 * lives at pending[id % CORE_PENDING_CAP] (sub_poll never reuses a used slot),
 * and every id below pending_lo has finished. That is the requests of about
 * the last request_timeout_ms, not the whole table (~1 MB of cold memory). */
static void check_deadlines(struct core *c, uint64_t now)
{
	if (!c->n_pending) {
		c->earliest_deadline_ns = 0;
		c->pending_lo = c->next_request_id;
		return;
	}
	if (!c->earliest_deadline_ns || now <= c->earliest_deadline_ns + DEADLINE_GRACE_NS)
		return;
	uint64_t earliest = 0, lo = c->next_request_id;
	for (uint64_t id = c->pending_lo; id < c->next_request_id && c->n_pending; id++) {
		struct core_pending *p = &c->pending[id % CORE_PENDING_CAP];
		if (!p->used || p->request_id != id)
			continue;
		if (now > p->deadline_ns + DEADLINE_GRACE_NS) {
			c->models[p->model].timeouts++;
			core_fail_request(c, p, RUTH_IPC_E_DEADLINE_EXCEEDED,
					  "no reply before the request deadline (enforced by ruth-ai-core)", now);
			continue;
		}
		if (id < lo)
			lo = id;
		if (!earliest || p->deadline_ns < earliest)
			earliest = p->deadline_ns;
	}
	c->pending_lo = lo;
	c->earliest_deadline_ns = earliest;
}

/* ---------------------------------------------------------------- loop */

int core_run(struct core *c, volatile int *stop)
{
	struct pollfd pfd[CORE_MAX_MODELS + CORE_MAX_CTL_CLIENTS + 1];
	int owner[CORE_MAX_MODELS + CORE_MAX_CTL_CLIENTS + 1];
	KLOG_INFO(&c->log, "READY cameras=%zu models=%zu subscriptions=%zu control=%s sched=%s", c->n_cams,
		  c->n_models, c->cfg.n_subs, c->cfg.control_socket[0] ? c->cfg.control_socket : "(none)",
		  ksched_current_name());
	/* One-shot: the core keeps no sandbox, so it opens the socket when it needs it. */
	int nfd = ksd_notify_open();
	ksd_notify_send(nfd, "READY=1\n");
	if (nfd >= 0)
		close(nfd);
	while (!*stop) {
		uint64_t now = kclock_mono_ns();
		if (now >= c->next_agent_poll_ns) {
			for (size_t i = 0; i < c->n_cams; i++)
				camera_poll(c, &c->cams[i], now);
			c->next_agent_poll_ns = now + AGENT_POLL_NS;
		}
		for (size_t i = 0; i < c->n_models; i++)
			model_conn_tick(c, &c->models[i], now);
		for (int i = 0; i < c->subs_hwm; i++)
			if (c->subs[i].used)
				sub_poll(c, i, now, 0, 0);
		if (c->cfg.tick_slack_ms)
			early_ticks(c, now);
		check_deadlines(c, now);
		now = kclock_mono_ns();
		/* Wait until the earliest of: a live subscription's tick, a reconnect or
		 * handshake deadline, a request deadline (+ grace), the agents' poll. */
		uint64_t due = c->next_agent_poll_ns + (AGENT_POLL_MAX_NS - AGENT_POLL_NS);
		if (c->earliest_deadline_ns && c->earliest_deadline_ns + DEADLINE_GRACE_NS + 1 < due)
			due = c->earliest_deadline_ns + DEADLINE_GRACE_NS + 1;
		for (size_t i = 0; i < c->n_models; i++) {
			const struct model_conn *m = &c->models[i];
			if (m->state == MODEL_UNAVAILABLE && m->next_retry_ns < due)
				due = m->next_retry_ns;
			else if (m->state == MODEL_HANDSHAKE && m->handshake_deadline_ns < due)
				due = m->handshake_deadline_ns;
		}
		uint64_t wait_ns = due > now ? due - now : 0;
		for (int i = 0; i < c->subs_hwm; i++) {
			struct core_sub *s = &c->subs[i];
			if (!s->used || c->cams[s->cam].agent.state == AGENT_WAITING)
				continue;
			uint64_t t = fps_gate_time_to_next(&s->gate, now);
			if (t < wait_ns)
				wait_ns = t;
		}
		/* The results flush never wakes the process by itself: lines are written
		 * now if the sleep ahead would take them past their flush time. */
		if (c->results_dirty && now + wait_ns >= c->results_flush_ns)
			results_flush(c);
		nfds_t n = 0;
		for (size_t i = 0; i < c->n_models; i++) {
			struct model_conn *m = &c->models[i];
			if (m->fd < 0)
				continue;
			pfd[n] = (struct pollfd){ .fd = m->fd, .events = POLLIN | (m->wlen ? POLLOUT : 0) };
			owner[n++] = (int)i;
		}
		if (c->ctl_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = c->ctl_fd, .events = POLLIN };
			owner[n++] = -1;
		}
		for (int i = 0; i < CORE_MAX_CTL_CLIENTS; i++) {
			if (c->ctl_clients[i] < 0)
				continue;
			pfd[n] = (struct pollfd){ .fd = c->ctl_clients[i], .events = POLLIN };
			owner[n++] = -2 - i;
		}
		/* Round up to whole milliseconds so a tick is never polled early. */
		int timeout_ms = (int)((wait_ns + 999999) / 1000000);
		int rc = poll(pfd, n, timeout_ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			KLOG_ERR(&c->log, "poll: %s", strerror(errno));
			return -errno;
		}
		now = kclock_mono_ns();
		for (nfds_t k = 0; k < n && rc > 0; k++) {
			if (!pfd[k].revents)
				continue;
			if (owner[k] >= 0)
				model_conn_on_io(c, &c->models[owner[k]], pfd[k].revents, now);
			else if (owner[k] == -1)
				control_on_accept(c);
			else
				control_on_client(c, -2 - owner[k]);
		}
	}
	if (c->results_dirty)
		results_flush(c);
	KLOG_INFO(&c->log, "stopping: %" PRIu64 " results written", c->results_written);
	return 0;
}
