/* test_ipc_codec.c: the Phase 4.1 codec pinned by byte vectors, every
 * malformed-input rule, and a random round-trip property.
 *
 * The byte arrays below were produced by an encoder written independently from
 * the tables in docs/ipc-contract.md (not from codec.c); they are the contract.
 * If one of these tests fails after a change, the change broke the locked wire
 * format: fix the code, never the vector. Malformed inputs are always copied
 * into a heap buffer of exactly their length, so ASan reports any read past the
 * end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ruth/ipc.h"

/* ------------------------------------------------------------ test vectors */
static const uint8_t vec_hello[96] = {
	0x52, 0x55, 0x54, 0x48, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x48, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x92, 0x10, 0x00, 0x00,
	0x72, 0x75, 0x74, 0x68, 0x2d, 0x69, 0x6e, 0x66, 0x65, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t vec_hello_ack[384] = {
	0x52, 0x55, 0x54, 0x48, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x40, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
	0x62, 0x6c, 0x61, 0x7a, 0x65, 0x66, 0x61, 0x63, 0x65, 0x2d, 0x66, 0x72, 0x6f, 0x6e, 0x74, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x42, 0x6c, 0x61, 0x7a, 0x65, 0x46, 0x61, 0x63, 0x65, 0x20, 0x28, 0x73, 0x68, 0x6f, 0x72, 0x74,
	0x20, 0x72, 0x61, 0x6e, 0x67, 0x65, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x31, 0x2e, 0x30, 0x2e, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x6f, 0x6e, 0x6e, 0x78, 0x72, 0x75, 0x6e, 0x74, 0x69, 0x6d, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x6e, 0x6f, 0x20, 0x47, 0x50, 0x55, 0x3a, 0x20, 0x6c, 0x69, 0x62, 0x63, 0x75, 0x64, 0x61, 0x2e,
	0x73, 0x6f, 0x2e, 0x31, 0x20, 0x6e, 0x6f, 0x74, 0x20, 0x66, 0x6f, 0x75, 0x6e, 0x64, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t vec_health[24] = {
	0x52, 0x55, 0x54, 0x48, 0x01, 0x00, 0x03, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t vec_health_ack[224] = {
	0x52, 0x55, 0x54, 0x48, 0x01, 0x00, 0x04, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xc8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x40, 0x42, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xee, 0x36, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t vec_infer_request[128] = {
	0x52, 0x55, 0x54, 0x48, 0x01, 0x00, 0x05, 0x00, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	0x68, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6c, 0x6f, 0x62, 0x62, 0x79, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xd2, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf2, 0x05, 0x2a, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x3f, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t vec_infer_response[344] = {
	0x52, 0x55, 0x54, 0x48, 0x01, 0x00, 0x06, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd2, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x05, 0x00, 0x00, 0xd0, 0x02, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x2c, 0x01, 0x00, 0x00,
	0x84, 0x03, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x28, 0x41, 0x00, 0x00, 0xa2, 0x41, 0x00, 0x00, 0xdd, 0x42, 0x00, 0xc0, 0x0c, 0x43,
	0x00, 0x00, 0x60, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x41,
	0x00, 0x00, 0x20, 0x42, 0x00, 0x00, 0xa0, 0x42, 0x00, 0x00, 0x20, 0x42, 0x00, 0x00, 0x5c, 0x42,
	0x00, 0x00, 0x8c, 0x42, 0x00, 0x00, 0x5c, 0x42, 0x00, 0x00, 0xc8, 0x42, 0x00, 0x00, 0x70, 0x41,
	0x00, 0x00, 0x48, 0x42, 0x00, 0x00, 0xd2, 0x42, 0x00, 0x00, 0x48, 0x42, 0x00, 0x00, 0x80, 0x3f,
	0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0x00, 0x3f,
	0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t vec_error[192] = {
	0x52, 0x55, 0x54, 0x48, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xa8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
	0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x20, 0x73, 0x70, 0x65, 0x61, 0x6b, 0x73, 0x20, 0x32, 0x2e,
	0x2e, 0x33, 0x2c, 0x20, 0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x31, 0x2e, 0x2e, 0x31, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

struct vector {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	uint16_t type;
};

#define VEC(n, t) { #n, vec_##n, sizeof(vec_##n), t }
static const struct vector vectors[] = {
	VEC(hello, RUTH_IPC_HELLO),
	VEC(hello_ack, RUTH_IPC_HELLO_ACK),
	VEC(health, RUTH_IPC_HEALTH),
	VEC(health_ack, RUTH_IPC_HEALTH_ACK),
	VEC(infer_request, RUTH_IPC_INFER_REQUEST),
	VEC(infer_response, RUTH_IPC_INFER_RESPONSE),
	VEC(error, RUTH_IPC_ERROR),
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* The messages the vectors encode, built field by field. */
static void build_expected(uint16_t type, struct ruth_ipc_msg *m)
{
	ruth_ipc_msg_init(m);
	m->hdr.magic = RUTH_IPC_MAGIC;
	m->hdr.version = 1;
	m->hdr.type = type;
	switch (type) {
	case RUTH_IPC_HELLO:
		m->u.hello.min_version = 1;
		m->u.hello.max_version = 1;
		m->u.hello.client_pid = 4242;
		strcpy(m->u.hello.client_name, "ruth-infer");
		break;
	case RUTH_IPC_HELLO_ACK: {
		struct ruth_ipc_hello_ack *a = &m->u.hello_ack;
		a->version = 1;
		a->mode = RUTH_MODE_CPU;
		a->state = RUTH_STATE_READY;
		a->max_inflight = 64;
		a->workers = 2;
		a->input_width = 128;
		a->input_height = 128;
		strcpy(a->model_id, "blazeface-front");
		strcpy(a->model_name, "BlazeFace (short range)");
		strcpy(a->model_version, "1.0.0");
		strcpy(a->backend, "onnxruntime");
		strcpy(a->mode_reason, "no GPU: libcuda.so.1 not found");
		break;
	}
	case RUTH_IPC_HEALTH:
		m->hdr.request_id = 7;
		break;
	case RUTH_IPC_HEALTH_ACK: {
		struct ruth_ipc_health_ack *a = &m->u.health_ack;
		m->hdr.request_id = 7;
		a->state = RUTH_STATE_READY;
		a->mode = RUTH_MODE_CPU;
		a->inflight = 3;
		a->queue_capacity = 8;
		a->connections = 1;
		a->requests_total = 1000000;
		a->requests_failed = 12;
		a->uptime_ms = 3600000;
		break;
	}
	case RUTH_IPC_INFER_REQUEST: {
		struct ruth_ipc_infer_request *q = &m->u.infer_request;
		m->hdr.request_id = 0x0102030405060708ull;
		strcpy(q->camera_id, "lobby");
		q->generation = 3;
		q->frame_seq = 1234;
		q->deadline_ns = 5000000000ull;
		q->score_threshold = 0.5f;
		q->max_results = 10;
		break;
	}
	case RUTH_IPC_INFER_RESPONSE: {
		struct ruth_ipc_infer_response *r = &m->u.infer_response;
		m->hdr.request_id = 9;
		r->status = RUTH_IPC_OK;
		r->mode = RUTH_MODE_CPU;
		r->generation = 3;
		r->frame_seq = 1234;
		r->frame_width = 1280;
		r->frame_height = 720;
		r->queue_us = 15;
		r->preprocess_us = 300;
		r->infer_us = 900;
		r->postprocess_us = 40;
		r->n_detections = 2;
		struct ruth_ipc_detection *d = &r->detections[0];
		*d = (struct ruth_ipc_detection){ .x0 = 10.5f, .y0 = 20.25f, .x1 = 110.5f, .y1 = 140.75f,
						  .score = 0.875f, .class_id = 0, .n_points = 6 };
		const float pts[6][2] = { { 30, 40 }, { 80, 40 }, { 55, 70 }, { 55, 100 }, { 15, 50 }, { 105, 50 } };
		memcpy(d->points, pts, sizeof(pts));
		r->detections[1] = (struct ruth_ipc_detection){ .x0 = 1, .y0 = 2, .x1 = 3, .y1 = 4, .score = 0.5f,
								 .class_id = 7, .n_points = 0 };
		break;
	}
	case RUTH_IPC_ERROR:
		m->u.error.status = RUTH_IPC_E_UNSUPPORTED_VERSION;
		m->u.error.max_version = 1;
		m->u.error.min_version = 1;
		strcpy(m->u.error.message, "client speaks 2..3, server 1..1");
		break;
	default:
		fail();
	}
	m->hdr.body_len = (uint32_t)(ruth_ipc_encoded_size(m) - RUTH_IPC_HEADER_SIZE);
}

static void assert_det_equal(const struct ruth_ipc_detection *a, const struct ruth_ipc_detection *b)
{
	/* Bitwise, so NaN payloads and -0.0 must survive too. */
	assert_memory_equal(&a->x0, &b->x0, 5 * sizeof(float));
	assert_int_equal(a->class_id, b->class_id);
	assert_int_equal(a->n_points, b->n_points);
	assert_memory_equal(a->points, b->points, a->n_points * sizeof(a->points[0]));
}

/* Field-by-field equality of two decoded (or built) messages. */
static void assert_msg_equal(const struct ruth_ipc_msg *a, const struct ruth_ipc_msg *b)
{
	assert_int_equal(a->hdr.magic, b->hdr.magic);
	assert_int_equal(a->hdr.version, b->hdr.version);
	assert_int_equal(a->hdr.type, b->hdr.type);
	assert_true(a->hdr.request_id == b->hdr.request_id);
	assert_int_equal(a->hdr.body_len, b->hdr.body_len);
	switch (a->hdr.type) {
	case RUTH_IPC_HELLO:
		assert_memory_equal(&a->u.hello, &b->u.hello, sizeof(a->u.hello));
		break;
	case RUTH_IPC_HELLO_ACK:
		assert_memory_equal(&a->u.hello_ack, &b->u.hello_ack, sizeof(a->u.hello_ack));
		break;
	case RUTH_IPC_HEALTH:
		break;
	case RUTH_IPC_HEALTH_ACK: {
		const struct ruth_ipc_health_ack *x = &a->u.health_ack, *y = &b->u.health_ack;
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->mode, y->mode);
		assert_int_equal(x->inflight, y->inflight);
		assert_int_equal(x->queue_capacity, y->queue_capacity);
		assert_int_equal(x->connections, y->connections);
		assert_true(x->requests_total == y->requests_total);
		assert_true(x->requests_failed == y->requests_failed);
		assert_true(x->uptime_ms == y->uptime_ms);
		assert_string_equal(x->reason, y->reason);
		break;
	}
	case RUTH_IPC_INFER_REQUEST: {
		const struct ruth_ipc_infer_request *x = &a->u.infer_request, *y = &b->u.infer_request;
		assert_string_equal(x->camera_id, y->camera_id);
		assert_true(x->generation == y->generation);
		assert_true(x->frame_seq == y->frame_seq);
		assert_true(x->deadline_ns == y->deadline_ns);
		assert_memory_equal(&x->score_threshold, &y->score_threshold, sizeof(float));
		assert_int_equal(x->max_results, y->max_results);
		assert_int_equal(x->flags, y->flags);
		break;
	}
	case RUTH_IPC_INFER_RESPONSE: {
		const struct ruth_ipc_infer_response *x = &a->u.infer_response, *y = &b->u.infer_response;
		assert_int_equal(x->status, y->status);
		assert_int_equal(x->mode, y->mode);
		assert_true(x->generation == y->generation);
		assert_true(x->frame_seq == y->frame_seq);
		assert_int_equal(x->frame_width, y->frame_width);
		assert_int_equal(x->frame_height, y->frame_height);
		assert_int_equal(x->queue_us, y->queue_us);
		assert_int_equal(x->preprocess_us, y->preprocess_us);
		assert_int_equal(x->infer_us, y->infer_us);
		assert_int_equal(x->postprocess_us, y->postprocess_us);
		assert_string_equal(x->message, y->message);
		assert_int_equal(x->n_detections, y->n_detections);
		for (uint32_t i = 0; i < x->n_detections; i++)
			assert_det_equal(&x->detections[i], &y->detections[i]);
		break;
	}
	case RUTH_IPC_ERROR:
		assert_int_equal(a->u.error.status, b->u.error.status);
		assert_int_equal(a->u.error.max_version, b->u.error.max_version);
		assert_int_equal(a->u.error.min_version, b->u.error.min_version);
		assert_string_equal(a->u.error.message, b->u.error.message);
		break;
	default:
		fail();
	}
}

/* Decode `len` bytes from an exact-size heap copy so ASan sees any overread. */
static int decode_exact(const uint8_t *bytes, size_t len, struct ruth_ipc_msg *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	int r = ruth_ipc_decode(copy, len, m);
	free(copy);
	return r;
}

static struct ruth_ipc_msg *new_msg(void)
{
	struct ruth_ipc_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	ruth_ipc_msg_init(m);
	return m;
}

/* ------------------------------------------------------------------ vectors */

static void test_vectors_decode(void **state)
{
	(void)state;
	struct ruth_ipc_msg *got = new_msg(), *want = new_msg();
	for (size_t i = 0; i < N_VECTORS; i++) {
		const struct vector *v = &vectors[i];
		ruth_ipc_msg_init(got);
		int r = decode_exact(v->bytes, v->len, got);
		if (r != (int)v->len)
			fail_msg("vector %s: decode returned %d (%s)", v->name, r, ruth_ipc_strerror(r));
		build_expected(v->type, want);
		assert_msg_equal(got, want);
	}
	free(got);
	free(want);
}

static void test_vectors_encode(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	uint8_t buf[1024];
	for (size_t i = 0; i < N_VECTORS; i++) {
		const struct vector *v = &vectors[i];
		build_expected(v->type, m);
		assert_int_equal(ruth_ipc_encoded_size(m), v->len);
		memset(buf, 0xa5, sizeof(buf));
		int r = ruth_ipc_encode(m, buf, sizeof(buf));
		if (r != (int)v->len)
			fail_msg("vector %s: encode returned %d", v->name, r);
		assert_memory_equal(buf, v->bytes, v->len);
		/* Exactly v->len bytes are written, not one more. */
		assert_int_equal(buf[v->len], 0xa5);
		/* And a buffer one byte short is refused without writing past it. */
		assert_int_equal(ruth_ipc_encode(m, buf, v->len - 1), RUTH_IPC_ENOSPACE);
	}
	free(m);
}

static void test_header(void **state)
{
	(void)state;
	struct ruth_ipc_header h;
	assert_int_equal(ruth_ipc_decode_header(vec_infer_request, sizeof(vec_infer_request), &h), 24);
	assert_int_equal(h.magic, RUTH_IPC_MAGIC);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.type, RUTH_IPC_INFER_REQUEST);
	assert_true(h.request_id == 0x0102030405060708ull);
	assert_int_equal(h.body_len, 104);
	assert_int_equal(h.reserved, 0);
	for (size_t len = 0; len < 24; len++)
		assert_int_equal(ruth_ipc_decode_header(vec_infer_request, len, &h), RUTH_IPC_ENEEDMORE);
	/* The magic is the ASCII bytes "RUTH". */
	assert_memory_equal(vec_hello, "RUTH", 4);
}

/* ---------------------------------------------------------------- malformed */

static void test_truncated_everywhere(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	for (size_t i = 0; i < N_VECTORS; i++)
		for (size_t len = 0; len < vectors[i].len; len++) {
			int r = decode_exact(vectors[i].bytes, len, m);
			if (r != RUTH_IPC_ENEEDMORE)
				fail_msg("vector %s cut at %zu: got %d", vectors[i].name, len, r);
		}
	free(m);
}

/* A mutable copy of a vector, with room for `extra` bytes. */
static uint8_t *dup_vec(const struct vector *v, size_t extra)
{
	uint8_t *b = calloc(1, v->len + extra);
	assert_non_null(b);
	memcpy(b, v->bytes, v->len);
	return b;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void test_bad_magic(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	for (int byte = 0; byte < 4; byte++) {
		uint8_t *b = dup_vec(&vectors[0], 0);
		b[byte] ^= 0x20;
		assert_int_equal(decode_exact(b, vectors[0].len, m), RUTH_IPC_EMAGIC);
		struct ruth_ipc_header h;
		assert_int_equal(ruth_ipc_decode_header(b, vectors[0].len, &h), RUTH_IPC_EMAGIC);
		free(b);
	}
	free(m);
}

static void test_too_large(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	const uint32_t lens[] = { RUTH_IPC_MAX_BODY + 1, 0x7fffffffu, 0xffffffffu };
	for (size_t i = 0; i < 3; i++) {
		uint8_t *b = dup_vec(&vectors[0], 0);
		put32(b + 16, lens[i]);
		/* Judged from the envelope alone: the body need not be present. */
		assert_int_equal(decode_exact(b, 24, m), RUTH_IPC_ETOOLARGE);
		free(b);
	}
	/* Exactly the maximum is a legal envelope (the body is then incomplete). */
	uint8_t *b = dup_vec(&vectors[0], 0);
	put32(b + 16, RUTH_IPC_MAX_BODY);
	assert_int_equal(decode_exact(b, vectors[0].len, m), RUTH_IPC_ENEEDMORE);
	free(b);
	free(m);
}

static void test_unknown_type(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	const uint16_t types[] = { 0, 8, 9, 0x100, 0xffff };
	for (size_t i = 0; i < 5; i++) {
		uint8_t *b = dup_vec(&vectors[2], 0); /* HEALTH: empty body */
		put16(b + 6, types[i]);
		assert_int_equal(decode_exact(b, vectors[2].len, m), RUTH_IPC_ETYPE);
		free(b);
	}
	/* Encoding an unknown type is refused too. */
	ruth_ipc_msg_init(m);
	m->hdr.type = 42;
	uint8_t out[64];
	assert_int_equal(ruth_ipc_encode(m, out, sizeof(out)), RUTH_IPC_ETYPE);
	free(m);
}

static void test_versions(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	const uint16_t bad[] = { 0, RUTH_IPC_VERSION + 1, 0xffff };
	for (size_t i = 0; i < N_VECTORS; i++) {
		const struct vector *v = &vectors[i];
		bool frozen = v->type == RUTH_IPC_HELLO || v->type == RUTH_IPC_ERROR;
		for (size_t k = 0; k < 3; k++) {
			uint8_t *b = dup_vec(v, 0);
			put16(b + 4, bad[k]);
			int r = decode_exact(b, v->len, m);
			/* HELLO and ERROR are frozen: any version decodes, so negotiation
			 * works with every past and future peer. */
			if (frozen)
				assert_int_equal(r, (int)v->len);
			else
				assert_int_equal(r, RUTH_IPC_EVERSION);
			if (frozen)
				assert_int_equal(m->hdr.version, bad[k]);
			free(b);
		}
	}
	/* The encoder refuses a version it does not speak; 0 means the current one. */
	build_expected(RUTH_IPC_HEALTH, m);
	uint8_t out[64];
	m->hdr.version = RUTH_IPC_VERSION + 1;
	assert_int_equal(ruth_ipc_encode(m, out, sizeof(out)), RUTH_IPC_EVERSION);
	m->hdr.version = 0;
	assert_int_equal(ruth_ipc_encode(m, out, sizeof(out)), 24);
	assert_int_equal(out[4], RUTH_IPC_VERSION);
	free(m);
}

/* Body one byte shorter and one byte longer than its type requires. */
static void test_wrong_body_length(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	for (size_t i = 0; i < N_VECTORS; i++) {
		const struct vector *v = &vectors[i];
		uint32_t body = (uint32_t)(v->len - 24);
		if (body > 0) {
			uint8_t *b = dup_vec(v, 0);
			put32(b + 16, body - 1);
			int r = decode_exact(b, v->len - 1, m);
			if (r != RUTH_IPC_EMALFORMED)
				fail_msg("vector %s body-1: got %d", v->name, r);
			free(b);
		}
		uint8_t *b = dup_vec(v, 1);
		put32(b + 16, body + 1);
		int r = decode_exact(b, v->len + 1, m);
		if (r != RUTH_IPC_EMALFORMED)
			fail_msg("vector %s body+1: got %d", v->name, r);
		free(b);
	}
	free(m);
}

/* Every string field, filled to the end with no NUL, is rejected. */
static void test_missing_nul(void **state)
{
	(void)state;
	struct field {
		size_t vec;
		size_t off; /* body offset */
		size_t size;
	};
	const struct field fields[] = {
		{ 0, 8, 64 },                                       /* hello.client_name */
		{ 1, 24, 64 }, { 1, 88, 64 }, { 1, 152, 32 }, { 1, 184, 16 }, { 1, 200, 160 }, /* hello_ack */
		{ 3, 40, 160 },                                     /* health_ack.reason */
		{ 4, 0, 64 },                                       /* infer_request.camera_id */
		{ 5, 48, 160 },                                     /* infer_response.message */
		{ 6, 8, 160 },                                      /* error.message */
	};
	struct ruth_ipc_msg *m = new_msg();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct vector *v = &vectors[fields[i].vec];
		uint8_t *b = dup_vec(v, 0);
		memset(b + 24 + fields[i].off, 'x', fields[i].size);
		int r = decode_exact(b, v->len, m);
		if (r != RUTH_IPC_EMALFORMED)
			fail_msg("vector %s string at %zu: got %d", v->name, fields[i].off, r);
		/* A NUL in the last byte of the field is enough. */
		b[24 + fields[i].off + fields[i].size - 1] = 0;
		assert_int_equal(decode_exact(b, v->len, m), (int)v->len);
		free(b);
	}
	free(m);
}

static void test_response_counts(void **state)
{
	(void)state;
	const struct vector *v = &vectors[5];
	struct ruth_ipc_msg *m = new_msg();
	const size_t nd_off = 24 + 208, det0 = 24 + 216, det1 = det0 + 28 + 48;

	/* More detections than the limit, whatever the body length says. */
	uint8_t *b = dup_vec(v, 0);
	put32(b + nd_off, RUTH_IPC_MAX_DETECTIONS + 1);
	assert_int_equal(decode_exact(b, v->len, m), RUTH_IPC_EMALFORMED);
	put32(b + nd_off, 0xffffffffu);
	assert_int_equal(decode_exact(b, v->len, m), RUTH_IPC_EMALFORMED);
	/* A count that promises more records than the body holds. */
	put32(b + nd_off, 3);
	assert_int_equal(decode_exact(b, v->len, m), RUTH_IPC_EMALFORMED);
	/* A count smaller than the records present leaves trailing bytes. */
	put32(b + nd_off, 1);
	assert_int_equal(decode_exact(b, v->len, m), RUTH_IPC_EMALFORMED);
	put32(b + nd_off, 2);
	assert_int_equal(decode_exact(b, v->len, m), (int)v->len);

	/* Too many points in one record. */
	put32(b + det0 + 24, RUTH_IPC_MAX_POINTS + 1);
	assert_int_equal(decode_exact(b, v->len, m), RUTH_IPC_EMALFORMED);
	put32(b + det0 + 24, 0x80000000u);
	assert_int_equal(decode_exact(b, v->len, m), RUTH_IPC_EMALFORMED);
	/* Points that would run past the body. */
	put32(b + det0 + 24, 6);
	put32(b + det1 + 24, 1);
	assert_int_equal(decode_exact(b, v->len, m), RUTH_IPC_EMALFORMED);
	free(b);

	/* The largest legal response decodes and stays within RUTH_IPC_MAX_BODY. */
	struct ruth_ipc_msg *big = new_msg();
	big->hdr.type = RUTH_IPC_INFER_RESPONSE;
	big->u.infer_response.n_detections = RUTH_IPC_MAX_DETECTIONS;
	for (uint32_t i = 0; i < RUTH_IPC_MAX_DETECTIONS; i++)
		big->det_storage[i].n_points = RUTH_IPC_MAX_POINTS;
	size_t sz = ruth_ipc_encoded_size(big);
	assert_true(sz - 24 <= RUTH_IPC_MAX_BODY);
	uint8_t *out = malloc(sz);
	assert_non_null(out);
	assert_int_equal(ruth_ipc_encode(big, out, sz), (int)sz);
	assert_int_equal(decode_exact(out, sz, m), (int)sz);
	assert_int_equal(m->u.infer_response.n_detections, RUTH_IPC_MAX_DETECTIONS);

	/* The encoder refuses counts the decoder would refuse. */
	big->u.infer_response.n_detections = RUTH_IPC_MAX_DETECTIONS + 1;
	assert_int_equal(ruth_ipc_encode(big, out, sz), RUTH_IPC_EMALFORMED);
	big->u.infer_response.n_detections = 1;
	big->det_storage[0].n_points = RUTH_IPC_MAX_POINTS + 1;
	assert_int_equal(ruth_ipc_encode(big, out, sz), RUTH_IPC_EMALFORMED);
	big->det_storage[0].n_points = 0;
	big->u.infer_response.detections = NULL;
	assert_int_equal(ruth_ipc_encode(big, out, sz), RUTH_IPC_EMALFORMED);
	free(out);
	free(big);
	free(m);
}

/* Bytes after the first message are left alone (pipelining), and a message
 * decoded into an uninitialised (zeroed) msg still finds storage. */
static void test_stream_of_messages(void **state)
{
	(void)state;
	size_t total = 0;
	for (size_t i = 0; i < N_VECTORS; i++)
		total += vectors[i].len;
	uint8_t *stream = malloc(total);
	assert_non_null(stream);
	size_t off = 0;
	for (size_t i = 0; i < N_VECTORS; i++) {
		memcpy(stream + off, vectors[i].bytes, vectors[i].len);
		off += vectors[i].len;
	}
	struct ruth_ipc_msg *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	off = 0;
	for (size_t i = 0; i < N_VECTORS; i++) {
		int r = ruth_ipc_decode(stream + off, total - off, m);
		assert_int_equal(r, (int)vectors[i].len);
		assert_int_equal(m->hdr.type, vectors[i].type);
		off += (size_t)r;
	}
	assert_int_equal(off, total);
	assert_int_equal(m->u.infer_response.detections == m->det_storage, 1);
	free(m);
	free(stream);
}

/* Strings longer than their field are cut on encode, never sent unterminated. */
static void test_encode_truncates_strings(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	m->hdr.type = RUTH_IPC_INFER_REQUEST;
	memset(m->u.infer_request.camera_id, 'c', sizeof(m->u.infer_request.camera_id)); /* no NUL */
	uint8_t out[256];
	int n = ruth_ipc_encode(m, out, sizeof(out));
	assert_int_equal(n, 128);
	struct ruth_ipc_msg *d = new_msg();
	assert_int_equal(ruth_ipc_decode(out, (size_t)n, d), 128);
	assert_int_equal(strlen(d->u.infer_request.camera_id), RUTH_IPC_ID_MAX - 1);
	free(d);
	free(m);
}

/* ---------------------------------------------------------------- property */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces exactly. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static float rnd_float(void)
{
	uint32_t u = (uint32_t)rnd();
	float f;
	memcpy(&f, &u, sizeof(f)); /* any bit pattern, NaNs included */
	return f;
}

static void rnd_str(char *dst, size_t cap)
{
	memset(dst, 0, cap);
	size_t n = (size_t)(rnd() % cap); /* 0 .. cap-1 */
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(1 + rnd() % 255); /* any non-NUL byte */
}

static void rnd_msg(struct ruth_ipc_msg *m)
{
	ruth_ipc_msg_init(m);
	m->hdr.type = (uint16_t)(1 + rnd() % 7);
	m->hdr.version = RUTH_IPC_VERSION;
	m->hdr.request_id = rnd();
	switch (m->hdr.type) {
	case RUTH_IPC_HELLO:
		m->u.hello.min_version = (uint16_t)rnd();
		m->u.hello.max_version = (uint16_t)rnd();
		m->u.hello.client_pid = (uint32_t)rnd();
		rnd_str(m->u.hello.client_name, sizeof(m->u.hello.client_name));
		break;
	case RUTH_IPC_HELLO_ACK: {
		struct ruth_ipc_hello_ack *a = &m->u.hello_ack;
		a->version = (uint16_t)rnd();
		a->mode = (uint16_t)rnd();
		a->state = (uint16_t)rnd();
		a->max_inflight = (uint32_t)rnd();
		a->workers = (uint32_t)rnd();
		a->input_width = (uint32_t)rnd();
		a->input_height = (uint32_t)rnd();
		rnd_str(a->model_id, sizeof(a->model_id));
		rnd_str(a->model_name, sizeof(a->model_name));
		rnd_str(a->model_version, sizeof(a->model_version));
		rnd_str(a->backend, sizeof(a->backend));
		rnd_str(a->mode_reason, sizeof(a->mode_reason));
		break;
	}
	case RUTH_IPC_HEALTH:
		break;
	case RUTH_IPC_HEALTH_ACK: {
		struct ruth_ipc_health_ack *a = &m->u.health_ack;
		a->state = (uint16_t)rnd();
		a->mode = (uint16_t)rnd();
		a->inflight = (uint32_t)rnd();
		a->queue_capacity = (uint32_t)rnd();
		a->connections = (uint32_t)rnd();
		a->requests_total = rnd();
		a->requests_failed = rnd();
		a->uptime_ms = rnd();
		rnd_str(a->reason, sizeof(a->reason));
		break;
	}
	case RUTH_IPC_INFER_REQUEST: {
		struct ruth_ipc_infer_request *q = &m->u.infer_request;
		rnd_str(q->camera_id, sizeof(q->camera_id));
		q->generation = rnd();
		q->frame_seq = rnd();
		q->deadline_ns = rnd();
		q->score_threshold = rnd_float();
		q->max_results = (uint32_t)rnd();
		q->flags = (uint32_t)rnd();
		break;
	}
	case RUTH_IPC_INFER_RESPONSE: {
		struct ruth_ipc_infer_response *r = &m->u.infer_response;
		r->status = (uint32_t)rnd();
		r->mode = (uint16_t)rnd();
		r->generation = rnd();
		r->frame_seq = rnd();
		r->frame_width = (uint32_t)rnd();
		r->frame_height = (uint32_t)rnd();
		r->queue_us = (uint32_t)rnd();
		r->preprocess_us = (uint32_t)rnd();
		r->infer_us = (uint32_t)rnd();
		r->postprocess_us = (uint32_t)rnd();
		rnd_str(r->message, sizeof(r->message));
		/* Mostly small, sometimes the maximum. */
		r->n_detections = rnd() % 8 == 0 ? RUTH_IPC_MAX_DETECTIONS : (uint32_t)(rnd() % 20);
		for (uint32_t i = 0; i < r->n_detections; i++) {
			struct ruth_ipc_detection *d = &r->detections[i];
			d->x0 = rnd_float();
			d->y0 = rnd_float();
			d->x1 = rnd_float();
			d->y1 = rnd_float();
			d->score = rnd_float();
			d->class_id = (int32_t)rnd();
			d->n_points = (uint32_t)(rnd() % (RUTH_IPC_MAX_POINTS + 1));
			for (uint32_t k = 0; k < d->n_points; k++) {
				d->points[k][0] = rnd_float();
				d->points[k][1] = rnd_float();
			}
		}
		break;
	}
	case RUTH_IPC_ERROR:
		m->u.error.status = (uint32_t)rnd();
		m->u.error.max_version = (uint16_t)rnd();
		m->u.error.min_version = (uint16_t)rnd();
		rnd_str(m->u.error.message, sizeof(m->u.error.message));
		break;
	default:
		fail();
	}
	m->hdr.magic = RUTH_IPC_MAGIC;
	m->hdr.body_len = (uint32_t)(ruth_ipc_encoded_size(m) - RUTH_IPC_HEADER_SIZE);
}

static void test_round_trip_random(void **state)
{
	(void)state;
	struct ruth_ipc_msg *a = new_msg(), *b = new_msg();
	size_t cap = RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY;
	uint8_t *buf1 = malloc(cap), *buf2 = malloc(cap);
	assert_non_null(buf1);
	assert_non_null(buf2);
	for (int iter = 0; iter < 3000; iter++) {
		rnd_msg(a);
		int n = ruth_ipc_encode(a, buf1, cap);
		assert_int_equal(n, (int)ruth_ipc_encoded_size(a));
		ruth_ipc_msg_init(b);
		int r = decode_exact(buf1, (size_t)n, b);
		if (r != n)
			fail_msg("iteration %d type %u: decode returned %d", iter, a->hdr.type, r);
		assert_msg_equal(a, b);
		assert_int_equal(ruth_ipc_encode(b, buf2, cap), n);
		assert_memory_equal(buf1, buf2, (size_t)n);
		/* Random truncation of the same message is always "need more". */
		size_t cut = (size_t)(rnd() % (uint64_t)n);
		assert_int_equal(decode_exact(buf1, cut, b), RUTH_IPC_ENEEDMORE);
	}
	free(buf1);
	free(buf2);
	free(a);
	free(b);
}

/* Random bytes behind a valid envelope: never a crash, never an overread,
 * always a defined code (the fuzz target goes much further). */
static void test_random_bodies(void **state)
{
	(void)state;
	struct ruth_ipc_msg *m = new_msg();
	uint8_t buf[24 + 600];
	for (int iter = 0; iter < 5000; iter++) {
		uint32_t body = (uint32_t)(rnd() % 600);
		for (size_t i = 0; i < 24 + body; i++)
			buf[i] = (uint8_t)rnd();
		put32(buf, RUTH_IPC_MAGIC);
		put16(buf + 4, (uint16_t)(rnd() % 3));
		put16(buf + 6, (uint16_t)(rnd() % 9));
		put32(buf + 16, body);
		int r = decode_exact(buf, 24 + body, m);
		assert_true(r == (int)(24 + body) || r == RUTH_IPC_EMALFORMED || r == RUTH_IPC_ETYPE ||
			    r == RUTH_IPC_EVERSION);
	}
	free(m);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ruth_ipc_status_name(RUTH_IPC_OK), "OK");
	assert_string_equal(ruth_ipc_status_name(RUTH_IPC_E_FRAME_STALE), "FRAME_STALE");
	assert_string_equal(ruth_ipc_status_name(RUTH_IPC_E_HANDSHAKE_REQUIRED), "HANDSHAKE_REQUIRED");
	assert_string_equal(ruth_ipc_status_name(RUTH_IPC_STATUS_COUNT), "UNKNOWN");
	assert_string_equal(ruth_ipc_status_name(0xffffffffu), "UNKNOWN");
	for (uint32_t s = 0; s < RUTH_IPC_STATUS_COUNT; s++) {
		assert_non_null(ruth_ipc_status_name(s));
		assert_string_not_equal(ruth_ipc_status_name(s), "UNKNOWN");
	}
	assert_string_equal(ruth_ipc_mode_name(RUTH_MODE_GPU), "gpu");
	assert_string_equal(ruth_ipc_mode_name(RUTH_MODE_CPU), "cpu");
	assert_string_equal(ruth_ipc_mode_name(RUTH_MODE_STUB), "stub");
	assert_string_equal(ruth_ipc_mode_name(0), "unknown");
	assert_string_equal(ruth_ipc_state_name(RUTH_STATE_STARTING), "starting");
	assert_string_equal(ruth_ipc_state_name(RUTH_STATE_READY), "ready");
	assert_string_equal(ruth_ipc_state_name(RUTH_STATE_DEGRADED), "degraded");
	assert_string_equal(ruth_ipc_strerror(RUTH_IPC_EMAGIC), "bad magic (not a Ruth IPC stream)");
	assert_string_equal(ruth_ipc_strerror(-ETIMEDOUT), strerror(ETIMEDOUT));
	const int codes[] = { RUTH_IPC_ENEEDMORE, RUTH_IPC_EMAGIC, RUTH_IPC_ETOOLARGE, RUTH_IPC_EMALFORMED,
			      RUTH_IPC_ETYPE,     RUTH_IPC_EVERSION, RUTH_IPC_ENOSPACE };
	for (size_t i = 0; i < 7; i++) {
		assert_string_not_equal(ruth_ipc_strerror(codes[i]), "unknown error");
		/* Project codes never collide with errno values. */
		assert_true(-codes[i] > 4095);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_decode),
		cmocka_unit_test(test_vectors_encode),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_wrong_body_length),
		cmocka_unit_test(test_missing_nul),
		cmocka_unit_test(test_response_counts),
		cmocka_unit_test(test_stream_of_messages),
		cmocka_unit_test(test_encode_truncates_strings),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_random_bodies),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("ipc_codec", tests, NULL, NULL);
}
