#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void put_utf8(buf_t *b, uint32_t cp) {
  char s[4];
  if (cp < 0x80) {
    buf_putc(b, (char)cp);
  } else if (cp < 0x800) {
    s[0] = (char)(0xC0 | cp >> 6), s[1] = (char)(0x80 | (cp & 0x3F));
    buf_put(b, s, 2);
  } else if (cp < 0x10000) {
    s[0] = (char)(0xE0 | cp >> 12), s[1] = (char)(0x80 | (cp >> 6 & 0x3F)), s[2] = (char)(0x80 | (cp & 0x3F));
    buf_put(b, s, 3);
  } else {
    s[0] = (char)(0xF0 | cp >> 18), s[1] = (char)(0x80 | (cp >> 12 & 0x3F)), s[2] = (char)(0x80 | (cp >> 6 & 0x3F)), s[3] = (char)(0x80 | (cp & 0x3F));
    buf_put(b, s, 4);
  }
}

static void put_escaped(buf_t *b, uint32_t cp) {
  static const char hex[] = "0123456789abcdef";
  switch (cp) {
    case '"': buf_puts(b, "\\\""); return;
    case '\\': buf_puts(b, "\\\\"); return;
    case '\b': buf_puts(b, "\\b"); return;
    case '\f': buf_puts(b, "\\f"); return;
    case '\n': buf_puts(b, "\\n"); return;
    case '\r': buf_puts(b, "\\r"); return;
    case '\t': buf_puts(b, "\\t"); return;
    default: break;
  }
  if (cp < 0x20) {
    char u[6] = {'\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 0xF]};
    buf_put(b, u, 6);
    return;
  }
  put_utf8(b, cp);
}

void json_string(buf_t *out, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  uint32_t cp = 0;
  int needed = 0, seen = 0;
  unsigned lower = 0x80, upper = 0xBF;
  buf_putc(out, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned c = p[i];
    if (needed == 0) {
      if (c <= 0x7F) {
        put_escaped(out, c);
      } else if (c >= 0xC2 && c <= 0xDF) {
        needed = 1, cp = c & 0x1F;
      } else if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0) lower = 0xA0;
        if (c == 0xED) upper = 0x9F;
        needed = 2, cp = c & 0xF;
      } else if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0) lower = 0x90;
        if (c == 0xF4) upper = 0x8F;
        needed = 3, cp = c & 0x7;
      } else {
        put_utf8(out, 0xFFFD);
      }
      continue;
    }
    if (c < lower || c > upper) {
      // the sequence so far is one error; the byte starts afresh
      cp = 0, needed = 0, seen = 0, lower = 0x80, upper = 0xBF;
      put_utf8(out, 0xFFFD);
      i--;
      continue;
    }
    lower = 0x80, upper = 0xBF;
    cp = cp << 6 | (c & 0x3F);
    if (++seen == needed) {
      put_utf8(out, cp);
      cp = 0, needed = 0, seen = 0;
    }
  }
  if (needed != 0) put_utf8(out, 0xFFFD);
  buf_putc(out, '"');
}

typedef struct {
  const char *p, *end;
} cur_t;

static void ws(cur_t *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')) c->p++;
}

static int hex4(cur_t *c, uint32_t *v) {
  if (c->end - c->p < 4) return -1;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char h = *c->p++;
    *v <<= 4;
    if (h >= '0' && h <= '9') *v |= (uint32_t)(h - '0');
    else if (h >= 'a' && h <= 'f') *v |= (uint32_t)(h - 'a' + 10);
    else if (h >= 'A' && h <= 'F') *v |= (uint32_t)(h - 'A' + 10);
    else return -1;
  }
  return 0;
}

/** Reads a JSON string at the cursor into `out` as UTF-8 (lone surrogates become U+FFFD). */
static int string(cur_t *c, buf_t *out) {
  if (c->p >= c->end || *c->p != '"') return -1;
  c->p++;
  while (c->p < c->end) {
    char ch = *c->p++;
    if (ch == '"') return 0;
    if (ch != '\\') {
      buf_putc(out, ch);
      continue;
    }
    if (c->p >= c->end) return -1;
    char e = *c->p++;
    uint32_t cp;
    switch (e) {
      case '"': buf_putc(out, '"'); break;
      case '\\': buf_putc(out, '\\'); break;
      case '/': buf_putc(out, '/'); break;
      case 'b': buf_putc(out, '\b'); break;
      case 'f': buf_putc(out, '\f'); break;
      case 'n': buf_putc(out, '\n'); break;
      case 'r': buf_putc(out, '\r'); break;
      case 't': buf_putc(out, '\t'); break;
      case 'u':
        if (hex4(c, &cp) != 0) return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          cur_t save = *c;
          if (c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u' && (c->p += 2, hex4(c, &lo) == 0) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            *c = save;
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        put_utf8(out, cp);
        break;
      default: return -1;
    }
  }
  return -1;
}

static int skip_literal(cur_t *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return -1;
  c->p += n;
  return 0;
}

int json_frame(const char *line, size_t n, frame_t *f) {
  cur_t c = {line, line + n};
  buf_t key = {0};
  f->t.len = f->data.len = f->message.len = 0;
  f->has_exit = f->has_message = 0;
  f->exit = 0;
  int rc = -1;
  ws(&c);
  if (c.p >= c.end || *c.p++ != '{') goto out;
  ws(&c);
  if (c.p < c.end && *c.p == '}') {
    rc = 0;
    goto out;
  }
  for (;;) {
    key.len = 0;
    ws(&c);
    if (string(&c, &key) != 0) goto out;
    ws(&c);
    if (c.p >= c.end || *c.p++ != ':') goto out;
    ws(&c);
    if (c.p >= c.end) goto out;
    buf_t scratch = {0};
    buf_t *target = &scratch;
    if (key.len == 1 && key.p[0] == 't') target = &f->t;
    else if (key.len == 4 && memcmp(key.p, "data", 4) == 0) target = &f->data;
    else if (key.len == 7 && memcmp(key.p, "message", 7) == 0) target = &f->message;
    if (*c.p == '"') {
      int r = string(&c, target);
      buf_free(&scratch);
      if (r != 0) goto out;
      if (target == &f->message) f->has_message = 1;
    } else if (*c.p == '-' || (*c.p >= '0' && *c.p <= '9')) {
      char *endp;
      char num[32];
      size_t len = 0;
      while (c.p + len < c.end && len < sizeof num - 1 && strchr("-+.eE0123456789", c.p[len]) != NULL) len++;
      memcpy(num, c.p, len);
      num[len] = 0;
      long v = strtol(num, &endp, 10);
      c.p += len;
      if (key.len == 4 && memcmp(key.p, "exit", 4) == 0) {
        if (*endp != 0) goto out;
        f->exit = v, f->has_exit = 1;
      }
    } else if (skip_literal(&c, "true") != 0 && skip_literal(&c, "false") != 0 && skip_literal(&c, "null") != 0) {
      goto out;  // nested values never occur in frames
    }
    ws(&c);
    if (c.p >= c.end) goto out;
    if (*c.p == ',') {
      c.p++;
      continue;
    }
    if (*c.p++ != '}') goto out;
    break;
  }
  ws(&c);
  rc = c.p == c.end ? 0 : -1;
out:
  buf_free(&key);
  return rc;
}

void frame_free(frame_t *f) {
  buf_free(&f->t);
  buf_free(&f->data);
  buf_free(&f->message);
}
