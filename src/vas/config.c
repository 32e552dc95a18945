/* config.c: vasd's YAML configuration, through kcommon's kyaml accessors so
 * every error names the file, the line and the field. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vas/frame_export.h"
#include "yaml_doc.h"

static int parse_export(const struct kyaml_doc *d, kyaml_node n, struct vas_export_options *ex,
			struct kyaml_err *e)
{
	static const char *const keys[] = { "ring_size", "slots", "group", NULL };
	int r;
	if ((r = kyaml_expect_map(d, n, "export", e)) < 0 || (r = kyaml_check_keys(d, n, "export", keys, e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "ring_size", "export", false, 1, 1024, &ex->ring_size, e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "slots", "export", false, 2, 64, &ex->slots, e)) < 0)
		return r;
	if ((r = kyaml_get_str(d, n, "group", "export", false, ex->group, sizeof(ex->group), e)) < 0)
		return r;
	if (kyaml_map_get(d, n, "group"))
		ex->group_line = kyaml_line(d, kyaml_map_get(d, n, "group"));
	return 0;
}

static int parse_reconnect(const struct kyaml_doc *d, kyaml_node n, const char *path,
			   struct vas_camera_config *c, struct kyaml_err *e)
{
	static const char *const keys[] = { "initial_ms", "max_ms", NULL };
	int r;
	if ((r = kyaml_expect_map(d, n, path, e)) < 0 || (r = kyaml_check_keys(d, n, path, keys, e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "initial_ms", path, false, 10, 600000, &c->reconnect_initial_ms, e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "max_ms", path, false, 10, 3600000, &c->reconnect_max_ms, e)) < 0)
		return r;
	if (c->reconnect_max_ms < c->reconnect_initial_ms) {
		char full[128];
		snprintf(full, sizeof(full), "%s.max_ms", path);
		return kyaml_fail(d, kyaml_map_get(d, n, "max_ms") ? kyaml_map_get(d, n, "max_ms") : n, full, e,
				  "max_ms (%u) must be >= initial_ms (%u)", c->reconnect_max_ms,
				  c->reconnect_initial_ms);
	}
	return 0;
}

static int parse_record(const struct kyaml_doc *d, kyaml_node n, const char *path, struct vas_record_config *rc,
			struct kyaml_err *e)
{
	static const char *const keys[] = { "enabled", "dir", "segment_seconds", "format", "queue_packets", NULL };
	static const char *const formats[] = { "fmp4", "mkv", NULL };
	int r, fmt = 0;
	if ((r = kyaml_expect_map(d, n, path, e)) < 0 || (r = kyaml_check_keys(d, n, path, keys, e)) < 0)
		return r;
	rc->enabled = true; /* a record: section means recording unless it says enabled: false */
	if ((r = kyaml_get_bool(d, n, "enabled", path, false, &rc->enabled, e)) < 0)
		return r;
	if ((r = kyaml_get_str(d, n, "dir", path, rc->enabled, rc->dir, sizeof(rc->dir), e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "segment_seconds", path, false, 1, 86400, &rc->segment_seconds, e)) < 0)
		return r;
	if ((r = kyaml_get_enum(d, n, "format", path, false, formats, &fmt, e)) < 0)
		return r;
	rc->format = fmt == 1 ? VAS_RECORD_MKV : VAS_RECORD_FMP4;
	if ((r = kyaml_get_u32(d, n, "queue_packets", path, false, 8, 65536, &rc->queue_packets, e)) < 0)
		return r;
	return 0;
}

static int parse_rtp(const struct kyaml_doc *d, kyaml_node n, const char *path, struct vas_rtp_config *rc,
		     struct kyaml_err *e)
{
	static const char *const keys[] = { "enabled", "host", "port", "rtcp_port", "payload_type", "ssrc",
					    "sdp", "queue_packets", "local_port", NULL };
	uint32_t v;
	int r;
	if ((r = kyaml_expect_map(d, n, path, e)) < 0 || (r = kyaml_check_keys(d, n, path, keys, e)) < 0)
		return r;
	rc->enabled = true;
	if ((r = kyaml_get_bool(d, n, "enabled", path, false, &rc->enabled, e)) < 0)
		return r;
	if ((r = kyaml_get_str(d, n, "host", path, false, rc->host, sizeof(rc->host), e)) < 0)
		return r;
	v = 0;
	if ((r = kyaml_get_u32(d, n, "port", path, rc->enabled, 1, 65535, &v, e)) < 0)
		return r;
	rc->port = (uint16_t)v;
	v = 0;
	if ((r = kyaml_get_u32(d, n, "rtcp_port", path, false, 0, 65535, &v, e)) < 0)
		return r;
	rc->rtcp_port = (uint16_t)v;
	/* Fixed source port: a MediaSoup PlainTransport with comedia off only accepts
	 * packets from the tuple given to its connect(). */
	v = 0;
	if ((r = kyaml_get_u32(d, n, "local_port", path, false, 0, 65534, &v, e)) < 0)
		return r;
	rc->local_port = (uint16_t)v;
	v = rc->payload_type;
	if ((r = kyaml_get_u32(d, n, "payload_type", path, false, 96, 127, &v, e)) < 0)
		return r;
	rc->payload_type = (uint8_t)v;
	if ((r = kyaml_get_u32(d, n, "ssrc", path, false, 0, UINT32_MAX, &rc->ssrc, e)) < 0)
		return r;
	if ((r = kyaml_get_str(d, n, "sdp", path, false, rc->sdp_path, sizeof(rc->sdp_path), e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "queue_packets", path, false, 8, 65536, &rc->queue_packets, e)) < 0)
		return r;
	return 0;
}

static void camera_defaults(struct vas_camera_config *c)
{
	memset(c, 0, sizeof(*c));
	c->transport = VAS_TRANSPORT_TCP;
	c->decode_threads = 1;
	c->timeout_ms = 2000;
	c->reconnect_initial_ms = 200;
	c->reconnect_max_ms = 5000;
	c->realtime = true;
	c->loop = true;
	c->record.segment_seconds = 10;
	c->record.format = VAS_RECORD_FMP4;
	c->record.queue_packets = 512;
	snprintf(c->rtp.host, sizeof(c->rtp.host), "127.0.0.1");
	c->rtp.payload_type = 96;
	c->rtp.queue_packets = 256;
}

static int parse_camera(const struct kyaml_doc *d, kyaml_node n, size_t idx, struct vas_camera_config *c,
			struct kyaml_err *e)
{
	static const char *const keys[] = { "id", "url", "transport", "decode_threads", "timeout_ms",
					    "reconnect", "max_width", "max_height", "record", "rtp",
					    "realtime", "loop", "max_frames", NULL };
	static const char *const transports[] = { "tcp", "udp", NULL };
	char path[64], sub[96];
	int r, tr = 0;
	kyaml_node s;

	snprintf(path, sizeof(path), "cameras[%zu]", idx);
	camera_defaults(c);
	if ((r = kyaml_expect_map(d, n, path, e)) < 0 || (r = kyaml_check_keys(d, n, path, keys, e)) < 0)
		return r;
	if ((r = kyaml_get_str(d, n, "id", path, true, c->id, sizeof(c->id), e)) < 0)
		return r;
	if (!vas_export_camera_id_valid(c->id)) {
		snprintf(sub, sizeof(sub), "%s.id", path);
		return kyaml_fail(d, kyaml_map_get(d, n, "id"), sub, e,
				  "'%s' is not a valid camera id (1-47 characters of A-Z a-z 0-9 _ . -)", c->id);
	}
	if ((r = kyaml_get_str(d, n, "url", path, true, c->url, sizeof(c->url), e)) < 0)
		return r;
	c->is_file = strstr(c->url, "://") == NULL;
	if ((r = kyaml_get_enum(d, n, "transport", path, false, transports, &tr, e)) < 0)
		return r;
	c->transport = tr == 1 ? VAS_TRANSPORT_UDP : VAS_TRANSPORT_TCP;
	if ((r = kyaml_get_u32(d, n, "decode_threads", path, false, 0, 64, &c->decode_threads, e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "timeout_ms", path, false, 100, 600000, &c->timeout_ms, e)) < 0)
		return r;
	if ((s = kyaml_map_get(d, n, "reconnect"))) {
		snprintf(sub, sizeof(sub), "%s.reconnect", path);
		if ((r = parse_reconnect(d, s, sub, c, e)) < 0)
			return r;
	}
	if ((r = kyaml_get_u32(d, n, "max_width", path, false, 16, 16384, &c->max_width, e)) < 0)
		return r;
	if ((r = kyaml_get_u32(d, n, "max_height", path, false, 16, 16384, &c->max_height, e)) < 0)
		return r;
	if ((c->max_width == 0) != (c->max_height == 0))
		return kyaml_fail(d, n, path, e, "max_width and max_height must be given together");
	if ((s = kyaml_map_get(d, n, "record"))) {
		snprintf(sub, sizeof(sub), "%s.record", path);
		if ((r = parse_record(d, s, sub, &c->record, e)) < 0)
			return r;
	}
	if ((s = kyaml_map_get(d, n, "rtp"))) {
		snprintf(sub, sizeof(sub), "%s.rtp", path);
		if ((r = parse_rtp(d, s, sub, &c->rtp, e)) < 0)
			return r;
	}
	if ((r = kyaml_get_bool(d, n, "realtime", path, false, &c->realtime, e)) < 0)
		return r;
	if ((r = kyaml_get_bool(d, n, "loop", path, false, &c->loop, e)) < 0)
		return r;
	if ((r = kyaml_get_u64(d, n, "max_frames", path, false, 0, UINT64_MAX, &c->max_frames, e)) < 0)
		return r;
	if (!c->is_file) {
		/* The file-only options change nothing on a network source; refusing them
		 * keeps a config from silently meaning something it does not do. */
		static const char *const file_only[] = { "realtime", "loop", NULL };
		for (int i = 0; file_only[i]; i++) {
			if ((s = kyaml_map_get(d, n, file_only[i]))) {
				snprintf(sub, sizeof(sub), "%s.%s", path, file_only[i]);
				return kyaml_fail(d, s, sub, e, "only valid for a local file url");
			}
		}
	}
	return 0;
}

static int parse_doc(struct vas_config *cfg, const struct kyaml_doc *d, struct kyaml_err *e)
{
	static const char *const keys[] = { "export", "cameras", NULL };
	kyaml_node root = kyaml_root(d), cams, ex;
	int r;

	if (!root) {
		snprintf(e->msg, sizeof(e->msg), "%s: empty configuration (expected a map with 'cameras')",
			 kyaml_name(d));
		return -EINVAL;
	}
	if ((r = kyaml_expect_map(d, root, "(document)", e)) < 0 || (r = kyaml_check_keys(d, root, "", keys, e)) < 0)
		return r;
	cfg->export_opts.ring_size = 4;
	cfg->export_opts.slots = 4;
	if ((ex = kyaml_map_get(d, root, "export")) && (r = parse_export(d, ex, &cfg->export_opts, e)) < 0)
		return r;
	cams = kyaml_map_get(d, root, "cameras");
	if (!cams) {
		snprintf(e->msg, sizeof(e->msg), "%s:%d: field 'cameras': missing (at least one camera is required)",
			 kyaml_name(d), kyaml_line(d, root));
		return -EINVAL;
	}
	if ((r = kyaml_expect_seq(d, cams, "cameras", e)) < 0)
		return r;
	cfg->n_cameras = kyaml_seq_len(d, cams);
	if (cfg->n_cameras == 0)
		return kyaml_fail(d, cams, "cameras", e, "at least one camera is required");
	cfg->cameras = calloc(cfg->n_cameras, sizeof(*cfg->cameras));
	if (!cfg->cameras)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_cameras; i++) {
		kyaml_node cn = kyaml_seq_at(d, cams, i);
		if ((r = parse_camera(d, cn, i, &cfg->cameras[i], e)) < 0)
			return r;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(cfg->cameras[j].id, cfg->cameras[i].id)) {
				char p[64];
				snprintf(p, sizeof(p), "cameras[%zu].id", i);
				return kyaml_fail(d, kyaml_map_get(d, cn, "id"), p, e,
						  "duplicate camera id '%s' (also cameras[%zu])", cfg->cameras[i].id, j);
			}
		}
	}
	return 0;
}

static int finish(struct vas_config **out, struct vas_config *cfg, struct kyaml_doc *doc, int r,
		  const struct kyaml_err *e, char *err, size_t errlen)
{
	kyaml_free(&doc);
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", e->msg[0] ? e->msg : strerror(-r));
		vas_config_free(&cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int vas_config_load(struct vas_config **out, const char *path, char *err, size_t errlen)
{
	struct kyaml_err e = { { 0 } };
	struct kyaml_doc *doc = NULL;
	struct vas_config *cfg = calloc(1, sizeof(*cfg));
	int r;

	*out = NULL;
	if (!cfg)
		return -ENOMEM;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	r = kyaml_load_file(&doc, path, &e);
	if (r == -ENOENT)
		snprintf(e.msg, sizeof(e.msg), "%s: configuration file not found", path);
	if (r >= 0)
		r = parse_doc(cfg, doc, &e);
	return finish(out, cfg, doc, r, &e, err, errlen);
}

int vas_config_parse(struct vas_config **out, const char *name, const char *text, char *err, size_t errlen)
{
	struct kyaml_err e = { { 0 } };
	struct kyaml_doc *doc = NULL;
	struct vas_config *cfg = calloc(1, sizeof(*cfg));
	int r;

	*out = NULL;
	if (!cfg)
		return -ENOMEM;
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	r = kyaml_load_string(&doc, name, text, strlen(text), &e);
	if (r >= 0)
		r = parse_doc(cfg, doc, &e);
	return finish(out, cfg, doc, r, &e, err, errlen);
}

int vas_config_check_export(const struct vas_config *cfg, char *err, size_t errlen)
{
	if (cfg->export_opts.group[0] && !getgrnam(cfg->export_opts.group)) {
		snprintf(err, errlen, "%s:%d: field 'export.group': no such group '%s'", cfg->path,
			 cfg->export_opts.group_line, cfg->export_opts.group);
		return -EINVAL;
	}
	return 0;
}

void vas_config_free(struct vas_config **cfg)
{
	if (!cfg || !*cfg)
		return;
	free((*cfg)->cameras);
	free(*cfg);
	*cfg = NULL;
}
