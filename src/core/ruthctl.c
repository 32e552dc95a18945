/* ruthctl: talk to ruth-ai-core's control socket.
 *   ruthctl --socket PATH [--json] list
 *   ruthctl --socket PATH add CAMERA MODEL FPS [--threshold X] [--max-inflight N]
 *   ruthctl --socket PATH remove CAMERA MODEL
 * Exit status: 0 ok, 1 the core refused (its error on stderr), 2 usage, 3 no core. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: ruthctl --socket PATH [--json] list\n"
		   "       ruthctl --socket PATH add CAMERA MODEL FPS [--threshold X] [--max-inflight N]\n"
		   "       ruthctl --socket PATH remove CAMERA MODEL\n");
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Generations exceed 2^53: take the exact digits from the reply text (the k-th
 * "generation" key belongs to the k-th camera) instead of cJSON's double. */
static const char *exact_generation(const char *text, int k, char *buf, size_t cap)
{
	const char *p = text;
	for (int i = 0; p && i <= k; i++) {
		p = strstr(p, "\"generation\":");
		if (p && i < k)
			p++;
	}
	if (!p)
		return "?";
	p += strlen("\"generation\":");
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n >= cap)
		return "?";
	memcpy(buf, p, n);
	buf[n] = 0;
	return buf;
}

static void print_list(const cJSON *r, const char *text)
{
	const cJSON *it;
	int k = 0;
	char gen[32];
	printf("CAMERAS\n%-20s %-19s %20s %10s %12s %6s %6s\n", "ID", "STATE", "GENERATION", "NEWEST_SEQ",
	       "FRAMES_SEEN", "GENCHG", "STALLS");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "cameras"))
		printf("%-20s %-19s %20s %10.0f %12.0f %6.0f %6.0f\n", str(it, "id"), str(it, "state"),
		       exact_generation(text, k++, gen, sizeof(gen)), num(it, "newest_seq"), num(it, "frames_seen"),
		       num(it, "generation_changes"), num(it, "stalls"));
	printf("\nMODELS\n%-20s %-12s %-5s %9s %9s %7s %7s %s\n", "ID", "STATE", "MODE", "REQUESTS", "OK", "FAILED",
	       "INFLT", "LAST_ERROR");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "models"))
		printf("%-20s %-12s %-5s %9.0f %9.0f %7.0f %7.0f %s\n", str(it, "id"), str(it, "state"),
		       str(it, "mode"), num(it, "requests"), num(it, "ok"), num(it, "failed"), num(it, "inflight"),
		       str(it, "last_error"));
	printf("\nSUBSCRIPTIONS\n%-20s %-20s %-19s %5s %8s %8s %8s %7s %8s %8s %8s\n", "CAMERA", "MODEL", "STATE",
	       "FPS", "SELECTED", "SENT", "OK", "FAILED", "DROPPED", "P50_MS", "P95_MS");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "subscriptions"))
		printf("%-20s %-20s %-19s %5.1f %8.0f %8.0f %8.0f %7.0f %8.0f %8.1f %8.1f\n", str(it, "camera"),
		       str(it, "model"), str(it, "state"), num(it, "fps"), num(it, "selected"), num(it, "sent"),
		       num(it, "ok"), num(it, "failed"), num(it, "dropped_total"), num(it, "latency_p50_us") / 1000,
		       num(it, "latency_p95_us") / 1000);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'j' },
					      { "threshold", required_argument, NULL, 't' },
					      { "max-inflight", required_argument, NULL, 'm' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *sock = NULL;
	int json = 0, o;
	double threshold = -1;
	long max_inflight = 0;
	while ((o = getopt_long(argc, argv, "+s:jt:m:h", opts, NULL)) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 'j': json = 1; break;
		case 't': threshold = strtod(optarg, NULL); break;
		case 'm': max_inflight = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* Options may also follow the command (ruthctl add cam model 5 --threshold 0.6). */
	char *pos[8];
	int npos = 0;
	for (int i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "--threshold") && i + 1 < argc)
			threshold = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--max-inflight") && i + 1 < argc)
			max_inflight = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (npos < 8)
			pos[npos++] = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!sock || npos < 1) {
		usage(stderr);
		return 2;
	}
	cJSON *req = cJSON_CreateObject();
	if (!strcmp(pos[0], "list") && npos == 1) {
		cJSON_AddStringToObject(req, "cmd", "list");
	} else if (!strcmp(pos[0], "add") && npos == 4) {
		char *end;
		double fps = strtod(pos[3], &end);
		if (*end || !(fps > 0)) {
			fprintf(stderr, "ruthctl: FPS must be a positive number, got '%s'\n", pos[3]);
			cJSON_Delete(req);
			return 2;
		}
		cJSON_AddStringToObject(req, "cmd", "add");
		cJSON_AddStringToObject(req, "camera", pos[1]);
		cJSON_AddStringToObject(req, "model", pos[2]);
		cJSON_AddNumberToObject(req, "fps", fps);
		if (threshold >= 0)
			cJSON_AddNumberToObject(req, "threshold", threshold);
		if (max_inflight > 0)
			cJSON_AddNumberToObject(req, "max_inflight", (double)max_inflight);
	} else if (!strcmp(pos[0], "remove") && npos == 3) {
		cJSON_AddStringToObject(req, "cmd", "remove");
		cJSON_AddStringToObject(req, "camera", pos[1]);
		cJSON_AddStringToObject(req, "model", pos[2]);
	} else {
		usage(stderr);
		cJSON_Delete(req);
		return 2;
	}
	char *line = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (fd < 0 || strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ruthctl: bad socket path\n");
		free(line);
		return 3;
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "ruthctl: cannot connect to %s: %s (is ruth-ai-core running?)\n", sock,
			strerror(errno));
		free(line);
		close(fd);
		return 3;
	}
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t len = strlen(line);
	line[len] = '\n';
	ssize_t w = write(fd, line, len + 1);
	free(line);
	if (w != (ssize_t)(len + 1)) {
		fprintf(stderr, "ruthctl: write: %s\n", strerror(errno));
		close(fd);
		return 3;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	cJSON *reply = cJSON_Parse(buf);
	if (!reply) {
		fprintf(stderr, "ruthctl: no valid reply from %s\n", sock);
		free(buf);
		return 3;
	}
	int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
	if (!ok) {
		fprintf(stderr, "ruthctl: error: %s\n", str(reply, "error"));
	} else if (json || strcmp(pos[0], "list")) {
		printf("%s", buf);
		if (n && buf[n - 1] != '\n')
			printf("\n");
	} else {
		print_list(reply, buf);
	}
	cJSON_Delete(reply);
	free(buf);
	return ok ? 0 : 1;
}
