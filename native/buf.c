#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void grow(buf_t *b, size_t need) {
  if (b->len + need <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + need) cap *= 2;
  char *p = realloc(b->p, cap);
  if (p == NULL) {
    fputs("gc-k8s client: out of memory\n", stderr);
    exit(1);
  }
  b->p = p;
  b->cap = cap;
}

void buf_put(buf_t *b, const void *data, size_t n) {
  grow(b, n);
  if (n > 0) memcpy(b->p + b->len, data, n);
  b->len += n;
}

void buf_putc(buf_t *b, char c) { buf_put(b, &c, 1); }

void buf_puts(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }

void buf_free(buf_t *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}
