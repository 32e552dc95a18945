/* fuzz_ipc_decode.c: ruth_ipc_decode() on arbitrary bytes.
 *
 * Properties checked on every input:
 *  - decode never reads outside the input (ASan) and returns a defined code;
 *  - a decoded message re-encodes to exactly the size decode consumed (the
 *    layouts are fixed, so sizes must agree), and decoding that encoding
 *    consumes it all and re-encodes to identical bytes (a fixed point);
 *  - header-only parsing agrees with the full decoder about magic and size.
 *
 * Seed corpus: tests/fuzz/corpus_ipc/ holds one file per message type (the
 * byte vectors of tests/unit/test_ipc_codec.c) and a few malformed ones
 * (truncated, bad magic, too large, too many detections, a future-version
 * HELLO, two messages back to back).
 *
 * Two builds of this file: with clang -fsanitize=fuzzer it is a libFuzzer
 * target; without (RUTH_FUZZ_REPLAY) a main() replays the files named on the
 * command line (the seed corpus), so every compiler exercises the corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruth/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ruth_ipc_msg m1, m2;
static uint8_t enc1[RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY];
static uint8_t enc2[RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ruth_ipc_msg_init(&m1);
	int r = ruth_ipc_decode(data, size, &m1);
	struct ruth_ipc_header h;
	int hr = ruth_ipc_decode_header(data, size, &h);
	if (hr < 0 && r != hr)
		abort(); /* the envelope verdict must be the same in both paths */
	if (r < 0) {
		if (r != RUTH_IPC_ENEEDMORE && r != RUTH_IPC_EMAGIC && r != RUTH_IPC_ETOOLARGE &&
		    r != RUTH_IPC_EMALFORMED && r != RUTH_IPC_ETYPE && r != RUTH_IPC_EVERSION)
			abort();
		return 0;
	}
	if ((size_t)r > size || (size_t)r != RUTH_IPC_HEADER_SIZE + h.body_len)
		abort();
	int n1 = ruth_ipc_encode(&m1, enc1, sizeof(enc1));
	if (n1 != r)
		abort();
	ruth_ipc_msg_init(&m2);
	if (ruth_ipc_decode(enc1, (size_t)n1, &m2) != n1)
		abort();
	int n2 = ruth_ipc_encode(&m2, enc2, sizeof(enc2));
	if (n2 != n1 || memcmp(enc1, enc2, (size_t)n1) != 0)
		abort();
	/* Everything but the reserved words and string padding is carried
	 * verbatim, so the bytes before the first string field of the body must
	 * match the input (envelope minus reserved). */
	if (memcmp(enc1, data, 20) != 0 && m1.hdr.version != 0)
		abort();
	return 0;
}

#ifdef RUTH_FUZZ_REPLAY
#include <dirent.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
	static uint8_t buf[1u << 20];
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_ipc_decode: cannot open %s\n", path);
		return -1;
	}
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* An exact-size copy so ASan sees an overread past the input. */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, buf, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	return 0;
}

/* Arguments are files or folders of files (one level). */
int main(int argc, char **argv)
{
	int n = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			while (d && (e = readdir(d)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				char path[4096];
				snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
				if (replay_file(path) < 0)
					return 2;
				n++;
			}
			if (d)
				closedir(d);
			continue;
		}
		if (replay_file(argv[i]) < 0)
			return 2;
		n++;
	}
	printf("fuzz_ipc_decode: replayed %d inputs\n", n);
	return n > 0 ? 0 : 1;
}
#endif
