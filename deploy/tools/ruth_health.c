/* ruth_health.c: ruth-health, the health probe for a model runtime.
 *
 *   ruth-health --socket PATH [--timeout-ms N] [--expect-mode gpu|cpu|stub]
 *
 * Connects to the runtime's Unix socket, does the Phase 4.1 handshake (HELLO),
 * sends one HEALTH request and prints one JSON line with what it learnt:
 *   {"socket":..,"model_id":..,"mode":"cpu","state":"ready","mode_reason":..,
 *    "reason":..,"inflight":0,"connections":1,"requests_total":..,
 *    "requests_failed":..,"uptime_ms":..}
 *
 * Exit status (what docker's HEALTHCHECK and scripts key on):
 *   0  the runtime answered and is ready or degraded. Degraded (stub mode, or a
 *      CPU fallback the runtime reports as degraded) is still healthy on
 *      purpose: the seed requires a runtime without its GPU to keep serving
 *      valid error responses, and restarting it would not bring a GPU back.
 *   1  no answer: socket missing, connection refused, timeout, bad reply, or
 *      the runtime is still starting.
 *   2  usage error.
 *   3  the runtime answered but in another mode than --expect-mode (for sites
 *      that want a GPU-less runtime to count as unhealthy).
 *
 * It is a plain client of the locked contract (include/ruth/ipc.h) through the
 * shared blocking client, so it never needs anything the core does not use. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ruth/ipc.h"

enum { HEALTH_OK = 0, HEALTH_DOWN = 1, HEALTH_USAGE = 2, HEALTH_WRONG_MODE = 3 };

static void usage(FILE *f)
{
	fprintf(f, "usage: ruth-health --socket PATH [--timeout-ms N] [--expect-mode gpu|cpu|stub]\n"
		   "Asks a model runtime for its health over its Unix socket and prints one JSON line.\n"
		   "Exit: 0 ready or degraded, 1 no answer or starting, 2 usage, 3 wrong mode.\n");
}

/* JSON string body: quotes, backslashes and control characters escaped. The
 * strings come from the runtime (NUL-terminated by the codec), so they are
 * bounded; non-ASCII bytes pass through unchanged. */
static void put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static int parse_mode(const char *s)
{
	if (strcmp(s, "gpu") == 0)
		return RUTH_MODE_GPU;
	if (strcmp(s, "cpu") == 0)
		return RUTH_MODE_CPU;
	if (strcmp(s, "stub") == 0)
		return RUTH_MODE_STUB;
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"expect-mode", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *socket_path = NULL;
	int timeout_ms = 3000;
	int expect_mode = 0;
	struct klog_ctx log;
	int c;

	klog_ctx_init(&log, "ruth-health", "%s", "");
	while ((c = getopt_long(argc, argv, "s:t:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 't': {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);
			if (!end || *end || v < 1 || v > 600000) {
				KLOG_ERR(&log, "--timeout-ms: expected 1..600000, got '%s'", optarg);
				return HEALTH_USAGE;
			}
			timeout_ms = (int)v;
			break;
		}
		case 'm':
			expect_mode = parse_mode(optarg);
			if (expect_mode < 0) {
				KLOG_ERR(&log, "--expect-mode: expected gpu, cpu or stub, got '%s'", optarg);
				return HEALTH_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return HEALTH_OK;
		default:
			usage(stderr);
			return HEALTH_USAGE;
		}
	}
	if (optind != argc || !socket_path || !*socket_path) {
		KLOG_ERR(&log, "%s", optind != argc ? "unexpected argument" : "--socket PATH is required");
		usage(stderr);
		return HEALTH_USAGE;
	}
	klog_ctx_init(&log, "ruth-health", "socket=%s", socket_path);

	struct ruth_ipc_client *client = NULL;
	struct ruth_ipc_hello_ack hello;
	struct ruth_ipc_health_ack health;
	memset(&hello, 0, sizeof(hello));
	memset(&health, 0, sizeof(health));

	int err = ruth_ipc_client_connect(&client, socket_path, "ruth-health", timeout_ms, &hello);
	if (err < 0) {
		KLOG_ERR(&log, "handshake failed: %s", ruth_ipc_strerror(err));
		return HEALTH_DOWN;
	}
	err = ruth_ipc_client_health(client, &health, timeout_ms);
	ruth_ipc_client_close(&client);
	if (err < 0) {
		KLOG_ERR(&log, "health request failed: %s", ruth_ipc_strerror(err));
		return HEALTH_DOWN;
	}

	printf("{\"socket\":");
	put_json_string(stdout, socket_path);
	printf(",\"model_id\":");
	put_json_string(stdout, hello.model_id);
	printf(",\"model_version\":");
	put_json_string(stdout, hello.model_version);
	printf(",\"backend\":");
	put_json_string(stdout, hello.backend);
	printf(",\"mode\":");
	put_json_string(stdout, ruth_ipc_mode_name(health.mode));
	printf(",\"state\":");
	put_json_string(stdout, ruth_ipc_state_name(health.state));
	printf(",\"mode_reason\":");
	put_json_string(stdout, hello.mode_reason);
	printf(",\"reason\":");
	put_json_string(stdout, health.reason);
	printf(",\"workers\":%u,\"inflight\":%u,\"queue_capacity\":%u,\"connections\":%u,"
	       "\"requests_total\":%llu,\"requests_failed\":%llu,\"uptime_ms\":%llu}\n",
	       hello.workers, health.inflight, health.queue_capacity, health.connections,
	       (unsigned long long)health.requests_total, (unsigned long long)health.requests_failed,
	       (unsigned long long)health.uptime_ms);
	fflush(stdout);

	if (health.state != RUTH_STATE_READY && health.state != RUTH_STATE_DEGRADED) {
		KLOG_ERR(&log, "runtime is %s, not serving yet", ruth_ipc_state_name(health.state));
		return HEALTH_DOWN;
	}
	if (expect_mode && (int)health.mode != expect_mode) {
		KLOG_ERR(&log, "runtime serves in mode %s, expected %s (%s)", ruth_ipc_mode_name(health.mode),
			 ruth_ipc_mode_name((uint32_t)expect_mode), hello.mode_reason);
		return HEALTH_WRONG_MODE;
	}
	return HEALTH_OK;
}
