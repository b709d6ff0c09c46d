// SHA-256 (FIPS 180-4), only to name the daemon's socket exactly as the Node client does.
#ifndef GCK8S_SHA256_H
#define GCK8S_SHA256_H
#include <stddef.h>

void sha256(const unsigned char *data, size_t len, unsigned char out[32]);

#endif
