/* ruth/ipc.h: the Phase 4.1 model IPC contract (locked) and its codec.
 *
 * Transport: one Unix-domain SOCK_STREAM socket per model runtime,
 * "<socket_dir>/<model_id>.sock". Frames never cross it: a request names a
 * frame in the camera's shared-memory export (camera id, generation, seq) and
 * the runtime reads it from there, read-only.
 *
 * Framing: every message is a 24-byte envelope followed by `body_len` bytes of
 * body. All integers little-endian, floats IEEE-754 binary32 little-endian,
 * strings fixed-size NUL-padded byte arrays (always NUL-terminated on decode).
 *
 *   off size field
 *     0   4  magic       RUTH_IPC_MAGIC ("RUTH")
 *     4   2  version     protocol version of this message's body
 *     6   2  type        enum ruth_ipc_type
 *     8   8  request_id  chosen by the client, echoed in the reply
 *    16   4  body_len    <= RUTH_IPC_MAX_BODY
 *    20   4  reserved    0 on send, ignored on receive
 *
 * Conversation: the client sends HELLO first with the range of versions it
 * speaks; the server answers HELLO_ACK with the version it chose and the
 * model's identity and mode, or ERROR(UNSUPPORTED_VERSION) and closes. After
 * that, HEALTH and INFER_REQUEST may be pipelined (up to max_inflight
 * outstanding per connection); replies carry the request_id and may come back
 * in any order. The exact body layouts, the error table and both sides'
 * duties are in docs/ipc-contract.md; the test vectors in tests/unit pin them.
 *
 * The codec is pure: no I/O, no allocation, no global state, so it is
 * thread-safe and fuzzable. */
#ifndef RUTH_IPC_H
#define RUTH_IPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUTH_IPC_MAGIC 0x48545552u /* "RUTH" read as little-endian bytes */
#define RUTH_IPC_VERSION 2u        /* 2 = 1 + RUTH_IPC_INFER_F_GROUPED */
#define RUTH_IPC_VERSION_MIN 1u
#define RUTH_IPC_HEADER_SIZE 24u
#define RUTH_IPC_MAX_BODY (256u * 1024u)
#define RUTH_IPC_MAX_INFLIGHT 64u  /* default per-connection bound a server announces */
#define RUTH_IPC_MAX_DETECTIONS 256u
#define RUTH_IPC_MAX_POINTS 8u     /* keypoints or polygon corners per detection */

#define RUTH_IPC_ID_MAX 64u        /* model_id, camera_id, ... including the NUL */
#define RUTH_IPC_VERSION_STR_MAX 32u
#define RUTH_IPC_MESSAGE_MAX 160u

enum ruth_ipc_type {
	RUTH_IPC_HELLO = 1,          /* client -> server */
	RUTH_IPC_HELLO_ACK = 2,      /* server -> client */
	RUTH_IPC_HEALTH = 3,         /* client -> server, empty body */
	RUTH_IPC_HEALTH_ACK = 4,     /* server -> client */
	RUTH_IPC_INFER_REQUEST = 5,  /* client -> server */
	RUTH_IPC_INFER_RESPONSE = 6, /* server -> client */
	RUTH_IPC_ERROR = 7,          /* server -> client: a message that could not be served */
};

/* Status codes: the fixed table. 0 is success; never reuse or renumber. */
enum ruth_ipc_status {
	RUTH_IPC_OK = 0,
	RUTH_IPC_E_BAD_MESSAGE = 1,         /* malformed envelope or body */
	RUTH_IPC_E_UNSUPPORTED_VERSION = 2, /* no common protocol version */
	RUTH_IPC_E_UNKNOWN_TYPE = 3,        /* message type not defined for this version */
	RUTH_IPC_E_TOO_LARGE = 4,           /* body_len above RUTH_IPC_MAX_BODY */
	RUTH_IPC_E_BUSY = 5,                /* queue full or max_inflight reached; try a later frame */
	RUTH_IPC_E_NOT_READY = 6,           /* runtime still starting */
	RUTH_IPC_E_UNKNOWN_CAMERA = 7,      /* no export for that camera id */
	RUTH_IPC_E_FRAME_STALE = 8,         /* frame overwritten before or during the read; not retried */
	RUTH_IPC_E_FRAME_NOT_FOUND = 9,     /* seq not published yet */
	RUTH_IPC_E_GENERATION_MISMATCH = 10,/* export generation differs from the request's */
	RUTH_IPC_E_BAD_FORMAT = 11,         /* pixel format or geometry the model cannot take */
	RUTH_IPC_E_DEADLINE_EXCEEDED = 12,  /* deadline passed before the work could finish */
	RUTH_IPC_E_MODEL_UNAVAILABLE = 13,  /* stub mode: the model could not be loaded (message says why) */
	RUTH_IPC_E_INFERENCE_FAILED = 14,   /* the backend returned an error */
	RUTH_IPC_E_INTERNAL = 15,
	RUTH_IPC_E_HANDSHAKE_REQUIRED = 16, /* request before HELLO */
	RUTH_IPC_STATUS_COUNT
};

enum ruth_ipc_mode { RUTH_MODE_GPU = 1, RUTH_MODE_CPU = 2, RUTH_MODE_STUB = 3 };
enum ruth_ipc_state { RUTH_STATE_STARTING = 1, RUTH_STATE_READY = 2, RUTH_STATE_DEGRADED = 3 };

/* Codec errors (negative, returned by the functions below). */
#define RUTH_IPC_ENEEDMORE (-0x5201) /* buffer holds less than a whole message */
#define RUTH_IPC_EMAGIC (-0x5202)
#define RUTH_IPC_ETOOLARGE (-0x5203)
#define RUTH_IPC_EMALFORMED (-0x5204) /* body shorter/longer than its type requires, bad counts */
#define RUTH_IPC_ETYPE (-0x5205)
#define RUTH_IPC_EVERSION (-0x5206)
#define RUTH_IPC_ENOSPACE (-0x5207)   /* output buffer too small when encoding */

struct ruth_ipc_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint64_t request_id;
	uint32_t body_len;
	uint32_t reserved;
};

struct ruth_ipc_hello {
	uint16_t min_version;
	uint16_t max_version;
	uint32_t client_pid;
	char client_name[RUTH_IPC_ID_MAX];
};

struct ruth_ipc_hello_ack {
	uint16_t version;       /* chosen protocol version */
	uint16_t mode;          /* enum ruth_ipc_mode */
	uint16_t state;         /* enum ruth_ipc_state */
	uint16_t reserved;
	uint32_t max_inflight;  /* per connection */
	uint32_t workers;
	uint32_t input_width;   /* model input size, informative */
	uint32_t input_height;
	char model_id[RUTH_IPC_ID_MAX];
	char model_name[RUTH_IPC_ID_MAX];
	char model_version[RUTH_IPC_VERSION_STR_MAX];
	char backend[16];       /* "onnxruntime", "stub" */
	char mode_reason[RUTH_IPC_MESSAGE_MAX]; /* why CPU or stub, "" on GPU */
};

struct ruth_ipc_health_ack {
	uint16_t state;
	uint16_t mode;
	uint32_t inflight;      /* requests being processed or queued, all connections */
	uint32_t queue_capacity;
	uint32_t connections;
	uint64_t requests_total;
	uint64_t requests_failed;
	uint64_t uptime_ms;
	char reason[RUTH_IPC_MESSAGE_MAX];
};

struct ruth_ipc_infer_request {
	char camera_id[RUTH_IPC_ID_MAX];
	uint64_t generation;    /* export generation the seq belongs to; 0 = accept any */
	uint64_t frame_seq;     /* export sequence number */
	uint64_t deadline_ns;   /* CLOCK_MONOTONIC; 0 = none */
	float score_threshold;  /* 0 = model default */
	uint32_t max_results;   /* 0 = model default, capped at RUTH_IPC_MAX_DETECTIONS */
	uint32_t flags;         /* RUTH_IPC_INFER_F_*; version 1: 0 */
};

/* INFER_REQUEST flags (version 2 and later; a version 1 request carries 0).
 * GROUPED: this request was written together with the INFER_REQUEST before
 * it on the same connection, and its client does not need the two run in
 * parallel. A server may run a group (a request and the GROUPED ones that
 * follow it in the same read) one after another on one thread and send the
 * answers together: one wake-up on each side per group instead of per
 * request. It changes when answers come, never what they are; a server that
 * runs them in parallel is equally correct. Unknown bits are an error. */
#define RUTH_IPC_INFER_F_GROUPED 0x1u
#define RUTH_IPC_INFER_F_KNOWN RUTH_IPC_INFER_F_GROUPED

/* One result. Detections use box (source-frame pixels, x0,y0 top-left, x1,y1
 * bottom-right); classification results have an empty box (all 0) and use
 * class_id + score; keypoints (faces) and polygons (text) use points. */
struct ruth_ipc_detection {
	float x0, y0, x1, y1;
	float score;
	int32_t class_id;
	uint32_t n_points;
	float points[RUTH_IPC_MAX_POINTS][2];
};

struct ruth_ipc_infer_response {
	uint32_t status;        /* enum ruth_ipc_status */
	uint16_t mode;          /* mode that served it */
	uint16_t reserved;
	uint64_t generation;    /* echo of the frame actually read */
	uint64_t frame_seq;
	uint32_t frame_width, frame_height;
	uint32_t queue_us, preprocess_us, infer_us, postprocess_us;
	char message[RUTH_IPC_MESSAGE_MAX];
	uint32_t n_detections;  /* <= RUTH_IPC_MAX_DETECTIONS */
	struct ruth_ipc_detection *detections; /* decode: caller-provided array (see ruth_ipc_msg) */
};

struct ruth_ipc_error {
	uint32_t status;        /* enum ruth_ipc_status */
	uint16_t max_version;   /* with UNSUPPORTED_VERSION: what the server speaks */
	uint16_t min_version;
	char message[RUTH_IPC_MESSAGE_MAX];
};

/* A decoded message. For INFER_RESPONSE, set u.infer_response.detections to an
 * array of RUTH_IPC_MAX_DETECTIONS before decoding (or use ruth_ipc_msg_init).
 * Note: ruth_ipc_decode() always decodes detections into m->det_storage and
 * points u.infer_response.detections there, because the other union members
 * overlay that pointer (a msg reused across types would hold a stale one).
 * When encoding, detections may point at any caller array. */
struct ruth_ipc_msg {
	struct ruth_ipc_header hdr;
	union {
		struct ruth_ipc_hello hello;
		struct ruth_ipc_hello_ack hello_ack;
		struct ruth_ipc_health_ack health_ack;
		struct ruth_ipc_infer_request infer_request;
		struct ruth_ipc_infer_response infer_response;
		struct ruth_ipc_error error;
	} u;
	struct ruth_ipc_detection det_storage[RUTH_IPC_MAX_DETECTIONS];
};

/* Zero the message and point infer_response.detections at det_storage. */
void ruth_ipc_msg_init(struct ruth_ipc_msg *m);

/* Parse the 24-byte envelope at buf. Returns RUTH_IPC_HEADER_SIZE on success,
 * RUTH_IPC_ENEEDMORE when len < 24, RUTH_IPC_EMAGIC, RUTH_IPC_ETOOLARGE. The
 * version and type are not judged here (the server answers those with ERROR). */
int ruth_ipc_decode_header(const uint8_t *buf, size_t len, struct ruth_ipc_header *hdr);

/* Decode one whole message (envelope + body) from buf. Returns the number of
 * bytes consumed, RUTH_IPC_ENEEDMORE when buf holds less than one message, or
 * another negative code. m must have been set up with ruth_ipc_msg_init(). */
int ruth_ipc_decode(const uint8_t *buf, size_t len, struct ruth_ipc_msg *m);

/* Encode m (m->hdr.type, version, request_id are used; magic and body_len are
 * filled in). Returns bytes written or RUTH_IPC_ENOSPACE / RUTH_IPC_ETYPE. */
int ruth_ipc_encode(const struct ruth_ipc_msg *m, uint8_t *buf, size_t cap);

/* Bytes needed to encode m. */
size_t ruth_ipc_encoded_size(const struct ruth_ipc_msg *m);

const char *ruth_ipc_status_name(uint32_t status); /* "FRAME_STALE"; "UNKNOWN" if out of table */
const char *ruth_ipc_mode_name(uint32_t mode);     /* "gpu", "cpu", "stub" */
const char *ruth_ipc_state_name(uint32_t state);   /* "starting", "ready", "degraded" */
const char *ruth_ipc_strerror(int err);            /* codec errors and negative errnos */

/* ---------------------------------------------------------------- blocking client
 * A small synchronous client for tools, tests, health checks and benchmarks:
 * connect + HELLO, then one request at a time (or pipelined with send/recv).
 * ruth-ai-core has its own multiplexing client on top of the codec. */
struct ruth_ipc_client;

/* Connect to `socket_path`, send HELLO, wait for HELLO_ACK (timeout_ms, 0 = 5000).
 * On success *ack (if non-NULL) holds the server's identity and mode. */
int ruth_ipc_client_connect(struct ruth_ipc_client **out, const char *socket_path, const char *client_name,
			    int timeout_ms, struct ruth_ipc_hello_ack *ack);
void ruth_ipc_client_close(struct ruth_ipc_client **c);
int ruth_ipc_client_fd(const struct ruth_ipc_client *c);

/* Send one message (request_id set by the caller); blocks until written. */
int ruth_ipc_client_send(struct ruth_ipc_client *c, const struct ruth_ipc_msg *m);
/* Receive one whole message; timeout_ms < 0 waits forever. Returns 0, -ETIMEDOUT,
 * -ECONNRESET on EOF, or a codec error for a malformed reply. */
int ruth_ipc_client_recv(struct ruth_ipc_client *c, struct ruth_ipc_msg *m, int timeout_ms);

/* Convenience round trips. Return 0 when a reply of the right type arrived (its
 * status may still be an error), negative on transport failure. */
int ruth_ipc_client_health(struct ruth_ipc_client *c, struct ruth_ipc_health_ack *ack, int timeout_ms);
int ruth_ipc_client_infer(struct ruth_ipc_client *c, const struct ruth_ipc_infer_request *req,
			  struct ruth_ipc_msg *reply, int timeout_ms);

/* Read/write whole buffers on a blocking or non-blocking fd; used by both sides. */
int ruth_ipc_write_all(int fd, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
