// The JSON the client needs: encode a byte string as a JSON string (invalid UTF-8 repaired the
// way Node decodes it, so both clients send the same text), and read the daemon's flat frames.
#ifndef GCK8S_JSON_H
#define GCK8S_JSON_H
#include <stddef.h>

#include "buf.h"

/** Appends `s` as a quoted JSON string; each invalid UTF-8 sequence becomes U+FFFD (WHATWG). */
void json_string(buf_t *out, const char *s, size_t n);

/** One daemon frame: {"t":"out"|"err","data":…} or {"t":"end","exit":N,"code":…,"message":…}. */
typedef struct {
  buf_t t, data, message;
  int has_exit, has_message;
  long exit;
} frame_t;

/** Parses one NDJSON line into `f` (whose buffers it resets); returns 0, or -1 when malformed. */
int json_frame(const char *line, size_t n, frame_t *f);
void frame_free(frame_t *f);

#endif
