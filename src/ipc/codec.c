/* codec.c: the Phase 4.1 wire codec (ruth/ipc.h), byte layouts of
 * docs/ipc-contract.md.
 *
 * Pure on purpose: no I/O, no allocation, no global state and no dependency on
 * kcommon, so the same file links into the runtime, the core, the tools and a
 * standalone clang/libFuzzer binary. Every read from the input is bounds-checked
 * against the body length the envelope declares before any field is touched, so
 * arbitrary bytes can never make it read outside [buf, buf + len).
 *
 * Every offset and size below is a promise made in docs/ipc-contract.md; the
 * _Static_asserts and the test vectors in tests/unit/test_ipc_codec.c pin them. */
#include "ruth/ipc.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------ layouts */

/* Envelope. */
#define OFF_MAGIC 0u
#define OFF_VERSION 4u
#define OFF_TYPE 6u
#define OFF_REQID 8u
#define OFF_BODYLEN 16u
#define OFF_RESERVED 20u

/* HELLO: frozen for every version (see hello_frozen()). */
#define HELLO_SIZE 72u
/* HELLO_ACK v1. */
#define HELLO_ACK_SIZE 360u
/* HEALTH_ACK v1. */
#define HEALTH_ACK_SIZE 200u
/* INFER_REQUEST v1. */
#define INFER_REQUEST_SIZE 104u
/* INFER_RESPONSE v1: fixed part, then n_detections records, each a fixed part
 * followed by n_points (x, y) float pairs. */
#define INFER_RESPONSE_FIXED 216u
#define DET_FIXED 28u
#define POINT_SIZE 8u
/* ERROR: frozen for every version, like HELLO. */
#define ERROR_SIZE 168u

_Static_assert(RUTH_IPC_HEADER_SIZE == 24u, "envelope is 24 bytes");
_Static_assert(HELLO_SIZE == 8u + RUTH_IPC_ID_MAX, "HELLO layout");
_Static_assert(HELLO_ACK_SIZE == 24u + 2u * RUTH_IPC_ID_MAX + RUTH_IPC_VERSION_STR_MAX + 16u + RUTH_IPC_MESSAGE_MAX,
	       "HELLO_ACK layout");
_Static_assert(HEALTH_ACK_SIZE == 40u + RUTH_IPC_MESSAGE_MAX, "HEALTH_ACK layout");
_Static_assert(INFER_REQUEST_SIZE == RUTH_IPC_ID_MAX + 40u, "INFER_REQUEST layout");
_Static_assert(INFER_RESPONSE_FIXED == 48u + RUTH_IPC_MESSAGE_MAX + 8u, "INFER_RESPONSE layout");
_Static_assert(ERROR_SIZE == 8u + RUTH_IPC_MESSAGE_MAX, "ERROR layout");
/* The largest legal INFER_RESPONSE must fit the body limit, or a server could
 * be forced to produce a reply the client rejects as too large. */
_Static_assert(INFER_RESPONSE_FIXED + RUTH_IPC_MAX_DETECTIONS * (DET_FIXED + RUTH_IPC_MAX_POINTS * POINT_SIZE) <=
		       RUTH_IPC_MAX_BODY,
	       "largest INFER_RESPONSE fits RUTH_IPC_MAX_BODY");
_Static_assert(sizeof(float) == 4, "binary32 floats");

/* --------------------------------------------------------- little-endian I/O
 * Assembled byte by byte so the code is correct on any host byte order and
 * never does an unaligned load (bodies start at arbitrary buffer offsets). */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static float rdf32(const uint8_t *p)
{
	uint32_t u = rd32(p);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static void wrf32(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	wr32(p, u);
}

/* A wire string is valid only if a NUL occurs inside its field; bytes after the
 * first NUL are ignored on decode and written as zeros on encode. */
static int rdstr(const uint8_t *p, size_t field, char *dst)
{
	const uint8_t *nul = memchr(p, 0, field);
	if (!nul)
		return RUTH_IPC_EMALFORMED;
	size_t n = (size_t)(nul - p);
	memcpy(dst, p, n);
	memset(dst + n, 0, field - n);
	return 0;
}

/* The source may lack a NUL within `field` (a caller's full buffer): the wire
 * copy is cut to field - 1 bytes so the receiver's rule above always holds. */
static void wrstr(uint8_t *p, size_t field, const char *src)
{
	size_t n = strnlen(src, field - 1);
	memcpy(p, src, n);
	memset(p + n, 0, field - n);
}

/* --------------------------------------------------------------- type table */

/* HELLO and ERROR have one body layout for all time so that version
 * negotiation always works: a server decodes any client's HELLO, and a client
 * decodes the ERROR(UNSUPPORTED_VERSION) that a server of any version sends
 * back. Their envelope version is therefore not judged. */
static int frozen_type(uint16_t type)
{
	return type == RUTH_IPC_HELLO || type == RUTH_IPC_ERROR;
}

static int known_type(uint16_t type)
{
	return type >= RUTH_IPC_HELLO && type <= RUTH_IPC_ERROR;
}

static size_t detection_size(const struct ruth_ipc_detection *d)
{
	return DET_FIXED + (size_t)d->n_points * POINT_SIZE;
}

void ruth_ipc_msg_init(struct ruth_ipc_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->u.infer_response.detections = m->det_storage;
}

size_t ruth_ipc_encoded_size(const struct ruth_ipc_msg *m)
{
	size_t body = 0;
	switch (m->hdr.type) {
	case RUTH_IPC_HELLO:
		body = HELLO_SIZE;
		break;
	case RUTH_IPC_HELLO_ACK:
		body = HELLO_ACK_SIZE;
		break;
	case RUTH_IPC_HEALTH:
		body = 0;
		break;
	case RUTH_IPC_HEALTH_ACK:
		body = HEALTH_ACK_SIZE;
		break;
	case RUTH_IPC_INFER_REQUEST:
		body = INFER_REQUEST_SIZE;
		break;
	case RUTH_IPC_INFER_RESPONSE: {
		const struct ruth_ipc_infer_response *r = &m->u.infer_response;
		body = INFER_RESPONSE_FIXED;
		/* Clamped so a bad count cannot make this walk past the array; encode
		 * rejects such a message anyway. */
		uint32_t n = r->n_detections <= RUTH_IPC_MAX_DETECTIONS ? r->n_detections : 0;
		for (uint32_t i = 0; r->detections && i < n; i++) {
			uint32_t np = r->detections[i].n_points;
			body += DET_FIXED + (size_t)(np <= RUTH_IPC_MAX_POINTS ? np : 0) * POINT_SIZE;
		}
		break;
	}
	case RUTH_IPC_ERROR:
		body = ERROR_SIZE;
		break;
	default:
		body = 0;
		break;
	}
	return RUTH_IPC_HEADER_SIZE + body;
}

/* ------------------------------------------------------------------- decode */

int ruth_ipc_decode_header(const uint8_t *buf, size_t len, struct ruth_ipc_header *hdr)
{
	if (len < RUTH_IPC_HEADER_SIZE)
		return RUTH_IPC_ENEEDMORE;
	hdr->magic = rd32(buf + OFF_MAGIC);
	hdr->version = rd16(buf + OFF_VERSION);
	hdr->type = rd16(buf + OFF_TYPE);
	hdr->request_id = rd64(buf + OFF_REQID);
	hdr->body_len = rd32(buf + OFF_BODYLEN);
	hdr->reserved = rd32(buf + OFF_RESERVED);
	if (hdr->magic != RUTH_IPC_MAGIC)
		return RUTH_IPC_EMAGIC;
	if (hdr->body_len > RUTH_IPC_MAX_BODY)
		return RUTH_IPC_ETOOLARGE;
	return (int)RUTH_IPC_HEADER_SIZE;
}

static int decode_hello(const uint8_t *b, uint32_t n, struct ruth_ipc_hello *h)
{
	if (n != HELLO_SIZE)
		return RUTH_IPC_EMALFORMED;
	h->min_version = rd16(b + 0);
	h->max_version = rd16(b + 2);
	h->client_pid = rd32(b + 4);
	return rdstr(b + 8, RUTH_IPC_ID_MAX, h->client_name);
}

static int decode_hello_ack(const uint8_t *b, uint32_t n, struct ruth_ipc_hello_ack *a)
{
	if (n != HELLO_ACK_SIZE)
		return RUTH_IPC_EMALFORMED;
	a->version = rd16(b + 0);
	a->mode = rd16(b + 2);
	a->state = rd16(b + 4);
	a->reserved = rd16(b + 6);
	a->max_inflight = rd32(b + 8);
	a->workers = rd32(b + 12);
	a->input_width = rd32(b + 16);
	a->input_height = rd32(b + 20);
	int r;
	if ((r = rdstr(b + 24, RUTH_IPC_ID_MAX, a->model_id)) < 0 ||
	    (r = rdstr(b + 88, RUTH_IPC_ID_MAX, a->model_name)) < 0 ||
	    (r = rdstr(b + 152, RUTH_IPC_VERSION_STR_MAX, a->model_version)) < 0 ||
	    (r = rdstr(b + 184, sizeof(a->backend), a->backend)) < 0 ||
	    (r = rdstr(b + 200, RUTH_IPC_MESSAGE_MAX, a->mode_reason)) < 0)
		return r;
	return 0;
}

static int decode_health_ack(const uint8_t *b, uint32_t n, struct ruth_ipc_health_ack *a)
{
	if (n != HEALTH_ACK_SIZE)
		return RUTH_IPC_EMALFORMED;
	a->state = rd16(b + 0);
	a->mode = rd16(b + 2);
	a->inflight = rd32(b + 4);
	a->queue_capacity = rd32(b + 8);
	a->connections = rd32(b + 12);
	a->requests_total = rd64(b + 16);
	a->requests_failed = rd64(b + 24);
	a->uptime_ms = rd64(b + 32);
	return rdstr(b + 40, RUTH_IPC_MESSAGE_MAX, a->reason);
}

static int decode_infer_request(const uint8_t *b, uint32_t n, struct ruth_ipc_infer_request *q)
{
	if (n != INFER_REQUEST_SIZE)
		return RUTH_IPC_EMALFORMED;
	int r = rdstr(b + 0, RUTH_IPC_ID_MAX, q->camera_id);
	if (r < 0)
		return r;
	q->generation = rd64(b + 64);
	q->frame_seq = rd64(b + 72);
	q->deadline_ns = rd64(b + 80);
	q->score_threshold = rdf32(b + 88);
	q->max_results = rd32(b + 92);
	q->flags = rd32(b + 96);
	/* b + 100: reserved, ignored. */
	return 0;
}

static int decode_infer_response(const uint8_t *b, uint32_t n, struct ruth_ipc_infer_response *s)
{
	if (n < INFER_RESPONSE_FIXED)
		return RUTH_IPC_EMALFORMED;
	s->status = rd32(b + 0);
	s->mode = rd16(b + 4);
	s->reserved = rd16(b + 6);
	s->generation = rd64(b + 8);
	s->frame_seq = rd64(b + 16);
	s->frame_width = rd32(b + 24);
	s->frame_height = rd32(b + 28);
	s->queue_us = rd32(b + 32);
	s->preprocess_us = rd32(b + 36);
	s->infer_us = rd32(b + 40);
	s->postprocess_us = rd32(b + 44);
	int r = rdstr(b + 48, RUTH_IPC_MESSAGE_MAX, s->message);
	if (r < 0)
		return r;
	uint32_t nd = rd32(b + 208);
	/* b + 212: reserved, ignored. */
	if (nd > RUTH_IPC_MAX_DETECTIONS)
		return RUTH_IPC_EMALFORMED;
	size_t off = INFER_RESPONSE_FIXED;
	for (uint32_t i = 0; i < nd; i++) {
		/* off <= n holds on entry; compare by subtraction so nothing overflows. */
		if (n - off < DET_FIXED)
			return RUTH_IPC_EMALFORMED;
		const uint8_t *d = b + off;
		struct ruth_ipc_detection *o = &s->detections[i];
		uint32_t np = rd32(d + 24);
		if (np > RUTH_IPC_MAX_POINTS)
			return RUTH_IPC_EMALFORMED;
		if (n - off - DET_FIXED < (size_t)np * POINT_SIZE)
			return RUTH_IPC_EMALFORMED;
		o->x0 = rdf32(d + 0);
		o->y0 = rdf32(d + 4);
		o->x1 = rdf32(d + 8);
		o->y1 = rdf32(d + 12);
		o->score = rdf32(d + 16);
		o->class_id = (int32_t)rd32(d + 20);
		o->n_points = np;
		memset(o->points, 0, sizeof(o->points));
		for (uint32_t k = 0; k < np; k++) {
			o->points[k][0] = rdf32(d + DET_FIXED + k * POINT_SIZE);
			o->points[k][1] = rdf32(d + DET_FIXED + k * POINT_SIZE + 4);
		}
		off += DET_FIXED + (size_t)np * POINT_SIZE;
	}
	/* Trailing bytes would mean the two sides disagree about the layout. */
	if (off != n)
		return RUTH_IPC_EMALFORMED;
	s->n_detections = nd;
	return 0;
}

static int decode_error(const uint8_t *b, uint32_t n, struct ruth_ipc_error *e)
{
	if (n != ERROR_SIZE)
		return RUTH_IPC_EMALFORMED;
	e->status = rd32(b + 0);
	e->max_version = rd16(b + 4);
	e->min_version = rd16(b + 6);
	return rdstr(b + 8, RUTH_IPC_MESSAGE_MAX, e->message);
}

int ruth_ipc_decode(const uint8_t *buf, size_t len, struct ruth_ipc_msg *m)
{
	struct ruth_ipc_header hdr;
	int r = ruth_ipc_decode_header(buf, len, &hdr);
	if (r < 0)
		return r;
	if (len - RUTH_IPC_HEADER_SIZE < hdr.body_len)
		return RUTH_IPC_ENEEDMORE;
	/* Judged in this order so every implementation answers the same malformed
	 * message with the same code: magic, size, completeness, type, version, body. */
	if (!known_type(hdr.type))
		return RUTH_IPC_ETYPE;
	if (!frozen_type(hdr.type) && (hdr.version < RUTH_IPC_VERSION_MIN || hdr.version > RUTH_IPC_VERSION))
		return RUTH_IPC_EVERSION;

	/* Detections always land in the message's own det_storage. A pointer
	 * supplied by the caller cannot be trusted here: every other message type
	 * overlays u.infer_response.detections in the union (HELLO_ACK's
	 * mode_reason covers it), so after decoding one of those into the same msg
	 * it is arbitrary bytes; and a struct copy of a msg points into the
	 * original. */
	memset(&m->u, 0, sizeof(m->u));
	m->u.infer_response.detections = m->det_storage;
	m->hdr = hdr;

	const uint8_t *b = buf + RUTH_IPC_HEADER_SIZE;
	uint32_t n = hdr.body_len;
	switch (hdr.type) {
	case RUTH_IPC_HELLO:
		r = decode_hello(b, n, &m->u.hello);
		break;
	case RUTH_IPC_HELLO_ACK:
		r = decode_hello_ack(b, n, &m->u.hello_ack);
		break;
	case RUTH_IPC_HEALTH:
		r = n == 0 ? 0 : RUTH_IPC_EMALFORMED;
		break;
	case RUTH_IPC_HEALTH_ACK:
		r = decode_health_ack(b, n, &m->u.health_ack);
		break;
	case RUTH_IPC_INFER_REQUEST:
		r = decode_infer_request(b, n, &m->u.infer_request);
		break;
	case RUTH_IPC_INFER_RESPONSE:
		r = decode_infer_response(b, n, &m->u.infer_response);
		break;
	case RUTH_IPC_ERROR:
		r = decode_error(b, n, &m->u.error);
		break;
	default:
		r = RUTH_IPC_ETYPE;
		break;
	}
	if (r < 0)
		return r;
	return (int)(RUTH_IPC_HEADER_SIZE + n);
}

/* ------------------------------------------------------------------- encode */

static void encode_body(const struct ruth_ipc_msg *m, uint8_t *b)
{
	switch (m->hdr.type) {
	case RUTH_IPC_HELLO: {
		const struct ruth_ipc_hello *h = &m->u.hello;
		wr16(b + 0, h->min_version);
		wr16(b + 2, h->max_version);
		wr32(b + 4, h->client_pid);
		wrstr(b + 8, RUTH_IPC_ID_MAX, h->client_name);
		break;
	}
	case RUTH_IPC_HELLO_ACK: {
		const struct ruth_ipc_hello_ack *a = &m->u.hello_ack;
		wr16(b + 0, a->version);
		wr16(b + 2, a->mode);
		wr16(b + 4, a->state);
		wr16(b + 6, 0);
		wr32(b + 8, a->max_inflight);
		wr32(b + 12, a->workers);
		wr32(b + 16, a->input_width);
		wr32(b + 20, a->input_height);
		wrstr(b + 24, RUTH_IPC_ID_MAX, a->model_id);
		wrstr(b + 88, RUTH_IPC_ID_MAX, a->model_name);
		wrstr(b + 152, RUTH_IPC_VERSION_STR_MAX, a->model_version);
		wrstr(b + 184, sizeof(a->backend), a->backend);
		wrstr(b + 200, RUTH_IPC_MESSAGE_MAX, a->mode_reason);
		break;
	}
	case RUTH_IPC_HEALTH:
		break;
	case RUTH_IPC_HEALTH_ACK: {
		const struct ruth_ipc_health_ack *a = &m->u.health_ack;
		wr16(b + 0, a->state);
		wr16(b + 2, a->mode);
		wr32(b + 4, a->inflight);
		wr32(b + 8, a->queue_capacity);
		wr32(b + 12, a->connections);
		wr64(b + 16, a->requests_total);
		wr64(b + 24, a->requests_failed);
		wr64(b + 32, a->uptime_ms);
		wrstr(b + 40, RUTH_IPC_MESSAGE_MAX, a->reason);
		break;
	}
	case RUTH_IPC_INFER_REQUEST: {
		const struct ruth_ipc_infer_request *q = &m->u.infer_request;
		wrstr(b + 0, RUTH_IPC_ID_MAX, q->camera_id);
		wr64(b + 64, q->generation);
		wr64(b + 72, q->frame_seq);
		wr64(b + 80, q->deadline_ns);
		wrf32(b + 88, q->score_threshold);
		wr32(b + 92, q->max_results);
		wr32(b + 96, q->flags);
		wr32(b + 100, 0);
		break;
	}
	case RUTH_IPC_INFER_RESPONSE: {
		const struct ruth_ipc_infer_response *s = &m->u.infer_response;
		wr32(b + 0, s->status);
		wr16(b + 4, s->mode);
		wr16(b + 6, 0);
		wr64(b + 8, s->generation);
		wr64(b + 16, s->frame_seq);
		wr32(b + 24, s->frame_width);
		wr32(b + 28, s->frame_height);
		wr32(b + 32, s->queue_us);
		wr32(b + 36, s->preprocess_us);
		wr32(b + 40, s->infer_us);
		wr32(b + 44, s->postprocess_us);
		wrstr(b + 48, RUTH_IPC_MESSAGE_MAX, s->message);
		wr32(b + 208, s->n_detections);
		wr32(b + 212, 0);
		uint8_t *d = b + INFER_RESPONSE_FIXED;
		for (uint32_t i = 0; i < s->n_detections; i++) {
			const struct ruth_ipc_detection *o = &s->detections[i];
			wrf32(d + 0, o->x0);
			wrf32(d + 4, o->y0);
			wrf32(d + 8, o->x1);
			wrf32(d + 12, o->y1);
			wrf32(d + 16, o->score);
			wr32(d + 20, (uint32_t)o->class_id);
			wr32(d + 24, o->n_points);
			for (uint32_t k = 0; k < o->n_points; k++) {
				wrf32(d + DET_FIXED + k * POINT_SIZE, o->points[k][0]);
				wrf32(d + DET_FIXED + k * POINT_SIZE + 4, o->points[k][1]);
			}
			d += detection_size(o);
		}
		break;
	}
	case RUTH_IPC_ERROR: {
		const struct ruth_ipc_error *e = &m->u.error;
		wr32(b + 0, e->status);
		wr16(b + 4, e->max_version);
		wr16(b + 6, e->min_version);
		wrstr(b + 8, RUTH_IPC_MESSAGE_MAX, e->message);
		break;
	}
	default:
		break;
	}
}

int ruth_ipc_encode(const struct ruth_ipc_msg *m, uint8_t *buf, size_t cap)
{
	uint16_t type = m->hdr.type;
	if (!known_type(type))
		return RUTH_IPC_ETYPE;
	/* 0 means "the current version", so callers that zero a message and set
	 * only the type produce a valid one. */
	uint16_t version = m->hdr.version ? m->hdr.version : (uint16_t)RUTH_IPC_VERSION;
	if (!frozen_type(type) && (version < RUTH_IPC_VERSION_MIN || version > RUTH_IPC_VERSION))
		return RUTH_IPC_EVERSION;
	if (type == RUTH_IPC_INFER_RESPONSE) {
		const struct ruth_ipc_infer_response *s = &m->u.infer_response;
		if (s->n_detections > RUTH_IPC_MAX_DETECTIONS || (s->n_detections && !s->detections))
			return RUTH_IPC_EMALFORMED;
		for (uint32_t i = 0; i < s->n_detections; i++)
			if (s->detections[i].n_points > RUTH_IPC_MAX_POINTS)
				return RUTH_IPC_EMALFORMED;
	}
	size_t total = ruth_ipc_encoded_size(m);
	if (total > cap)
		return RUTH_IPC_ENOSPACE;
	uint32_t body = (uint32_t)(total - RUTH_IPC_HEADER_SIZE);
	wr32(buf + OFF_MAGIC, RUTH_IPC_MAGIC);
	wr16(buf + OFF_VERSION, version);
	wr16(buf + OFF_TYPE, type);
	wr64(buf + OFF_REQID, m->hdr.request_id);
	wr32(buf + OFF_BODYLEN, body);
	wr32(buf + OFF_RESERVED, 0);
	encode_body(m, buf + RUTH_IPC_HEADER_SIZE);
	return (int)total;
}

/* -------------------------------------------------------------------- names */

static const char *const status_names[RUTH_IPC_STATUS_COUNT] = {
	[RUTH_IPC_OK] = "OK",
	[RUTH_IPC_E_BAD_MESSAGE] = "BAD_MESSAGE",
	[RUTH_IPC_E_UNSUPPORTED_VERSION] = "UNSUPPORTED_VERSION",
	[RUTH_IPC_E_UNKNOWN_TYPE] = "UNKNOWN_TYPE",
	[RUTH_IPC_E_TOO_LARGE] = "TOO_LARGE",
	[RUTH_IPC_E_BUSY] = "BUSY",
	[RUTH_IPC_E_NOT_READY] = "NOT_READY",
	[RUTH_IPC_E_UNKNOWN_CAMERA] = "UNKNOWN_CAMERA",
	[RUTH_IPC_E_FRAME_STALE] = "FRAME_STALE",
	[RUTH_IPC_E_FRAME_NOT_FOUND] = "FRAME_NOT_FOUND",
	[RUTH_IPC_E_GENERATION_MISMATCH] = "GENERATION_MISMATCH",
	[RUTH_IPC_E_BAD_FORMAT] = "BAD_FORMAT",
	[RUTH_IPC_E_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
	[RUTH_IPC_E_MODEL_UNAVAILABLE] = "MODEL_UNAVAILABLE",
	[RUTH_IPC_E_INFERENCE_FAILED] = "INFERENCE_FAILED",
	[RUTH_IPC_E_INTERNAL] = "INTERNAL",
	[RUTH_IPC_E_HANDSHAKE_REQUIRED] = "HANDSHAKE_REQUIRED",
};

const char *ruth_ipc_status_name(uint32_t status)
{
	if (status >= RUTH_IPC_STATUS_COUNT)
		return "UNKNOWN";
	return status_names[status];
}

const char *ruth_ipc_mode_name(uint32_t mode)
{
	switch (mode) {
	case RUTH_MODE_GPU:
		return "gpu";
	case RUTH_MODE_CPU:
		return "cpu";
	case RUTH_MODE_STUB:
		return "stub";
	default:
		return "unknown";
	}
}

const char *ruth_ipc_state_name(uint32_t state)
{
	switch (state) {
	case RUTH_STATE_STARTING:
		return "starting";
	case RUTH_STATE_READY:
		return "ready";
	case RUTH_STATE_DEGRADED:
		return "degraded";
	default:
		return "unknown";
	}
}

const char *ruth_ipc_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case RUTH_IPC_ENEEDMORE:
		return "incomplete message";
	case RUTH_IPC_EMAGIC:
		return "bad magic (not a Ruth IPC stream)";
	case RUTH_IPC_ETOOLARGE:
		return "message body larger than the protocol limit";
	case RUTH_IPC_EMALFORMED:
		return "malformed message body";
	case RUTH_IPC_ETYPE:
		return "unknown message type";
	case RUTH_IPC_EVERSION:
		return "unsupported protocol version";
	case RUTH_IPC_ENOSPACE:
		return "output buffer too small";
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
