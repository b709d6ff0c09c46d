// A growable byte buffer; allocation failure ends the process (a thin client has nothing to save).
#ifndef GCK8S_BUF_H
#define GCK8S_BUF_H
#include <stddef.h>

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

void buf_put(buf_t *b, const void *data, size_t n);
void buf_putc(buf_t *b, char c);
void buf_puts(buf_t *b, const char *s);
void buf_free(buf_t *b);

#endif
