/* sha256.h: SHA-256 (FIPS 180-4) for checking model weights against
 * model.yaml's weights_sha256 without pulling a crypto library into the
 * runtime. Not constant-time; it hashes public files, never secrets. */
#ifndef RUTH_MODEL_SHA256_H
#define RUTH_MODEL_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct ruth__sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	uint8_t block[64];
	size_t used;    /* bytes waiting in block */
};

void ruth__sha256_init(struct ruth__sha256 *s);
void ruth__sha256_update(struct ruth__sha256 *s, const void *data, size_t len);
void ruth__sha256_final(struct ruth__sha256 *s, uint8_t out[32]);
/* Lowercase hex of the file's digest into hex[65]. Returns 0 or a negative errno. */
int ruth__sha256_file(const char *path, char hex[65]);

#endif
