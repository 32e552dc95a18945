/* control.c: the local control socket (Unix SOCK_STREAM, mode 0660). Protocol:
 * one JSON object per line in, one JSON object per line out, then the core
 * closes the connection (docs/core.md, "Control protocol"):
 *   {"cmd":"list"}
 *   {"cmd":"add","camera":"lobby","model":"blazeface-front","fps":5,"threshold":0.6}
 *   {"cmd":"remove","camera":"lobby","model":"blazeface-front"}
 * Replies: {"ok":true,...} or {"ok":false,"error":"..."}. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "core.h"

#define CTL_LINE_MAX 4096

static char ctl_buf[CORE_MAX_CTL_CLIENTS][CTL_LINE_MAX];
static size_t ctl_len[CORE_MAX_CTL_CLIENTS];

int control_open(struct core *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		/* A live core answers; a stale socket from a killed one is replaced. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0117);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0660) < 0 || listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	c->ctl_fd = fd;
	return 0;
}

void control_close(struct core *c)
{
	for (int i = 0; i < CORE_MAX_CTL_CLIENTS; i++)
		if (c->ctl_clients[i] >= 0) {
			close(c->ctl_clients[i]);
			c->ctl_clients[i] = -1;
		}
	if (c->ctl_fd >= 0) {
		close(c->ctl_fd);
		c->ctl_fd = -1;
		unlink(c->cfg.control_socket);
	}
}

void control_on_accept(struct core *c)
{
	for (;;) {
		int fd = accept4(c->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int slot = -1;
		for (int i = 0; i < CORE_MAX_CTL_CLIENTS; i++)
			if (c->ctl_clients[i] < 0) {
				slot = i;
				break;
			}
		if (slot < 0) {
			static const char busy[] = "{\"ok\":false,\"error\":\"too many control clients\"}\n";
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		c->ctl_clients[slot] = fd;
		ctl_len[slot] = 0;
	}
}

static void reply_and_close(struct core *c, int slot, char *reply)
{
	int fd = c->ctl_clients[slot];
	if (reply) {
		size_t len = strlen(reply) + 1;
		reply[len - 1] = '\n'; /* finish() allocates one byte more */
		/* Blocking with a 1 s send timeout: a client that does not read its
		 * reply cannot hold the loop for longer. */
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		struct timeval tv = { .tv_sec = 1 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		const char *p = reply;
		while (len) {
			ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			len -= (size_t)w;
		}
		free(reply);
	}
	close(fd);
	c->ctl_clients[slot] = -1;
}

void control_on_client(struct core *c, int slot)
{
	int fd = c->ctl_clients[slot];
	for (;;) {
		ssize_t r = read(fd, ctl_buf[slot] + ctl_len[slot], CTL_LINE_MAX - 1 - ctl_len[slot]);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			close(fd);
			c->ctl_clients[slot] = -1;
			return;
		}
		ctl_len[slot] += (size_t)r;
		ctl_buf[slot][ctl_len[slot]] = 0;
		char *nl = strchr(ctl_buf[slot], '\n');
		if (nl || ctl_len[slot] >= CTL_LINE_MAX - 1) {
			if (nl)
				*nl = 0;
			reply_and_close(c, slot, control_handle(c, ctl_buf[slot]));
			return;
		}
	}
}

static char *finish(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return NULL;
	size_t len = strlen(s);
	char *out = realloc(s, len + 2);
	if (!out) {
		free(s);
		return NULL;
	}
	out[len + 1] = 0;
	return out;
}

static char *error_reply(const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 0);
	cJSON_AddStringToObject(o, "error", msg);
	return finish(o);
}

static cJSON *list_json(struct core *c)
{
	uint64_t now = kclock_mono_ns();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddNumberToObject(o, "uptime_ms", (double)((now - c->started_ns) / 1000000));
	cJSON_AddNumberToObject(o, "results_written", (double)c->results_written);
	cJSON *cams = cJSON_AddArrayToObject(o, "cameras");
	for (size_t i = 0; i < c->n_cams; i++) {
		const struct core_camera *cam = &c->cams[i];
		const struct stream_agent *a = &cam->agent;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "id", cam->id);
		cJSON_AddStringToObject(j, "state", stream_agent_state_name(a->state));
		cJSON_AddNumberToObject(j, "state_for_ms", (double)((now - a->state_since_ns) / 1000000));
		char gen[24];
		snprintf(gen, sizeof(gen), "%" PRIu64, a->generation);
		cJSON_AddRawToObject(j, "generation", gen); /* exact: wall-clock ns exceed 2^53 */
		cJSON_AddNumberToObject(j, "newest_seq", (double)a->newest_seq);
		cJSON_AddNumberToObject(j, "frames_seen", (double)a->frames_seen);
		cJSON_AddNumberToObject(j, "generation_changes", (double)a->generations);
		cJSON_AddNumberToObject(j, "stalls", (double)a->stalls);
		cJSON_AddNumberToObject(j, "disappearances", (double)a->disappearances);
		cJSON_AddNumberToObject(j, "heartbeat_age_ms", (double)(a->heartbeat_age_ns / 1000000));
		cJSON_AddNumberToObject(j, "writer_pid", cam->writer_pid);
		cJSON_AddItemToArray(cams, j);
	}
	cJSON *models = cJSON_AddArrayToObject(o, "models");
	for (size_t i = 0; i < c->n_models; i++) {
		const struct model_conn *m = &c->models[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "id", m->id);
		cJSON_AddStringToObject(j, "state", model_state_name(m->state));
		cJSON_AddStringToObject(j, "mode", m->ack.mode ? ruth_ipc_mode_name(m->ack.mode) : "unknown");
		if (m->ack.mode_reason[0])
			cJSON_AddStringToObject(j, "mode_reason", m->ack.mode_reason);
		cJSON_AddStringToObject(j, "socket", m->sock_path);
		cJSON_AddNumberToObject(j, "inflight", m->inflight);
		cJSON_AddNumberToObject(j, "max_inflight", m->max_inflight);
		cJSON_AddNumberToObject(j, "requests", (double)m->requests);
		cJSON_AddNumberToObject(j, "grouped", (double)m->grouped);
		cJSON_AddNumberToObject(j, "ok", (double)m->ok);
		cJSON_AddNumberToObject(j, "failed", (double)m->failed);
		cJSON_AddNumberToObject(j, "timeouts", (double)m->timeouts);
		cJSON_AddNumberToObject(j, "connects", (double)m->connects);
		cJSON_AddNumberToObject(j, "disconnects", (double)m->disconnects);
		cJSON_AddNumberToObject(j, "connect_failures", (double)m->connect_failures);
		cJSON_AddStringToObject(j, "last_error", m->last_error);
		cJSON_AddItemToArray(models, j);
	}
	cJSON *subs = cJSON_AddArrayToObject(o, "subscriptions");
	for (int i = 0; i < c->subs_hwm; i++) {
		const struct core_sub *s = &c->subs[i];
		if (!s->used)
			continue;
		const struct fps_gate_counters *g = &s->gate.c;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "camera", c->cams[s->cam].id);
		cJSON_AddStringToObject(j, "model", c->models[s->model].id);
		cJSON_AddStringToObject(j, "state", core_sub_state(c, s));
		cJSON_AddNumberToObject(j, "fps", s->gate.fps);
		cJSON_AddNumberToObject(j, "threshold", s->score_threshold);
		cJSON_AddNumberToObject(j, "max_inflight", s->gate.max_inflight);
		cJSON_AddNumberToObject(j, "inflight", s->gate.inflight);
		cJSON_AddNumberToObject(j, "selected", (double)g->selected);
		cJSON_AddNumberToObject(j, "sent", (double)s->sent);
		cJSON_AddNumberToObject(j, "ok", (double)s->ok);
		cJSON_AddNumberToObject(j, "failed", (double)s->failed);
		cJSON *fb = cJSON_AddObjectToObject(j, "failed_by_status");
		for (uint32_t k = 1; k < RUTH_IPC_STATUS_COUNT; k++)
			if (s->failed_by_status[k])
				cJSON_AddNumberToObject(fb, ruth_ipc_status_name(k), (double)s->failed_by_status[k]);
		cJSON *d = cJSON_AddObjectToObject(j, "dropped");
		cJSON_AddNumberToObject(d, "not_due", (double)g->dropped_not_due);
		cJSON_AddNumberToObject(d, "inflight", (double)g->dropped_inflight);
		cJSON_AddNumberToObject(d, "unavailable", (double)g->dropped_unavailable);
		cJSON_AddNumberToObject(j, "dropped_total",
					(double)(g->dropped_not_due + g->dropped_inflight + g->dropped_unavailable));
		cJSON_AddNumberToObject(j, "ticks_no_new_frame", (double)g->no_new_frame);
		cJSON_AddNumberToObject(j, "ticks", (double)g->ticks);
		cJSON_AddNumberToObject(j, "ticks_early", (double)g->early);
		cJSON_AddNumberToObject(j, "latency_p50_us", lat_stats_percentile(&s->total_lat, 50));
		cJSON_AddNumberToObject(j, "latency_p95_us", lat_stats_percentile(&s->total_lat, 95));
		cJSON_AddItemToArray(subs, j);
	}
	return o;
}

char *control_handle(struct core *c, const char *line)
{
	cJSON *req = cJSON_Parse(line);
	if (!req || !cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return error_reply("request is not a JSON object");
	}
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	char err[1200];
	char *out;
	if (!cJSON_IsString(cmd)) {
		out = error_reply("missing string field 'cmd' (list, add, remove)");
	} else if (!strcmp(cmd->valuestring, "list")) {
		out = finish(list_json(c));
	} else if (!strcmp(cmd->valuestring, "add") || !strcmp(cmd->valuestring, "remove")) {
		bool add = cmd->valuestring[0] == 'a';
		const cJSON *cam = cJSON_GetObjectItemCaseSensitive(req, "camera");
		const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
		const cJSON *fps = cJSON_GetObjectItemCaseSensitive(req, "fps");
		const cJSON *th = cJSON_GetObjectItemCaseSensitive(req, "threshold");
		const cJSON *mi = cJSON_GetObjectItemCaseSensitive(req, "max_inflight");
		if (!cJSON_IsString(cam) || !cJSON_IsString(model)) {
			out = error_reply("fields 'camera' and 'model' (strings) are required");
		} else if (add && !cJSON_IsNumber(fps)) {
			out = error_reply("field 'fps' (number) is required for add");
		} else if (add && th && (!cJSON_IsNumber(th) || th->valuedouble < 0 || th->valuedouble > 1)) {
			out = error_reply("field 'threshold' must be a number in [0, 1]");
		} else if (add && mi && (!cJSON_IsNumber(mi) || mi->valuedouble < 1 || mi->valuedouble > 16)) {
			out = error_reply("field 'max_inflight' must be a number in [1, 16]");
		} else {
			int rc = add ? core_sub_add(c, cam->valuestring, model->valuestring, fps->valuedouble,
						    th ? (float)th->valuedouble : -1.0f, 0,
						    mi ? (uint32_t)mi->valuedouble : 0, err, sizeof(err))
				     : core_sub_remove(c, cam->valuestring, model->valuestring, err, sizeof(err));
			if (rc < 0) {
				out = error_reply(err);
			} else {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddBoolToObject(o, "ok", 1);
				if (add)
					cJSON_AddBoolToObject(o, "updated", rc == 1);
				out = finish(o);
			}
		}
	} else {
		snprintf(err, sizeof(err), "unknown cmd '%s' (list, add, remove)", cmd->valuestring);
		out = error_reply(err);
	}
	cJSON_Delete(req);
	return out;
}
