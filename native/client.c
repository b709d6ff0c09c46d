// gc-k8s-client: the fast path of gc-session-k8s, gc-events-k8s and gc-beads-k8s. gc starts one
// of these scripts per call, so process start is most of a call's cost: Node alone takes ~60 ms,
// this takes ~1 ms. It does only the common case — one request to a running daemon — and hands
// everything else (no daemon yet: autostart; attach; watch; the daemon dying mid-call) to the
// Node client, which owns those behaviours. The wire format is src/protocol/messages.ts.
//
// usage: gc-k8s-client session|events|beads <op> [args...]
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "sha256.h"

extern char **environ;

#define MAX_LINE_BYTES (64u << 20)

typedef struct {
  const char *op;
  size_t limit;  // the most bytes of stdin the op accepts
} stdin_op_t;

typedef struct {
  const char *name;
  stdin_op_t stdin_ops[8];     // ops whose stdin carries a payload (the others never read it)
  const char *retry_safe[16];  // ops the Node client may send again after the daemon died
} provider_t;

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)

// Must equal OPS in src/protocol/ops/ (a unit test compares them).
static const provider_t PROVIDERS[] = {
    {"session",
     {{"start", 4 * MIB}, {"process-alive", 64 * KIB}, {"nudge", 4 * MIB}, {"set-meta", 16000}, {"exec", 1 * MIB}, {"provision", 4 * MIB}, {NULL, 0}},
     {"protocol", "start", "stop", "is-running", "list-running", "process-alive", "get-meta", "set-meta", "remove-meta", "peek",
      "get-last-activity", "attach-target", "provision", "is-attached", NULL}},
    {"events", {{"record", 1 * MIB}, {"list", 64 * KIB}, {NULL, 0}}, {"ensure-running", "record", "list", "latest-seq", "watch", NULL}},
    {"beads",
     {{"create", 4 * MIB}, {"update", 4 * MIB}, {"set-metadata", 1 * MIB}, {NULL, 0}},
     {"get", "list", "ready", "ready-count", "children", "list-by-label", "list-by-status", "dep-list", "health", "probe", NULL}},
};

// gc 1.x's handshake, answered without the daemon. Must equal handshakeJson() in
// src/protocol/ops/session.ts (a unit test compares them).
static const char HANDSHAKE[] = "{\"version\":0,\"capabilities\":[\"proc.exec\",\"proc.provision\",\"report-activity\",\"report-attachment\"]}\n";

static const provider_t *provider;
static const char *op = "";

static int in_list(const char *const *list, const char *s) {
  for (; *list != NULL; list++)
    if (strcmp(*list, s) == 0) return 1;
  return 0;
}

static void die(const char *fmt, const char *detail) {
  fprintf(stderr, "gc-%s-k8s %s: ", provider->name, op);
  fprintf(stderr, fmt, detail);
  fputc('\n', stderr);
  exit(1);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/**
 * Hands the call to the Node client (bin/gc-provider-k8s.js next to our dist/): stdin it
 * would have read is replayed from memory, and the request id is kept so a retried record is
 * applied once.
 */
static void fallback(int argc, char **argv, const buf_t *stdin_data, const char *rid) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) die("cannot find the Node client: %s", strerror(errno));
  exe[n] = 0;
  for (int i = 0; i < 3; i++) {  // <root>/dist/native/gc-k8s-client -> <root>
    char *slash = strrchr(exe, '/');
    if (slash == NULL) die("cannot find the Node client from %s", exe);
    *slash = 0;
  }
  buf_t js = {0};
  buf_puts(&js, exe);
  buf_puts(&js, "/bin/gc-provider-k8s.js");
  buf_putc(&js, 0);
  if (stdin_data != NULL) {
    int fd = memfd_create("gc-k8s-stdin", 0);
    if (fd < 0 || write_all(fd, stdin_data->p, stdin_data->len) != 0 || lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) < 0) {
      die("cannot hand stdin to the Node client: %s", strerror(errno));
    }
    close(fd);
  }
  if (rid != NULL) setenv("GC_K8S_RID", rid, 1);
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (args == NULL) die("%s", "out of memory");
  args[0] = "node";
  args[1] = js.p;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];  // the provider, the op, its arguments
  signal(SIGPIPE, SIG_DFL);
  execvp("node", args);
  die("cannot start the Node client (node): %s", strerror(errno));
}

/** The daemon's socket, named exactly as src/protocol/socket-path.ts does; -1 for odd bases. */
static int socket_path(buf_t *out) {
  const char *explicit = getenv("GC_K8S_SOCKET");
  if (explicit != NULL && *explicit != 0) {
    buf_puts(out, explicit);
    buf_putc(out, 0);
    return 0;
  }
  buf_t raw = {0};
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  const char *home = getenv("HOME");
  if (xdg != NULL) {
    buf_puts(&raw, xdg);
    buf_puts(&raw, "/gc-k8s");
  } else if (home != NULL) {
    buf_puts(&raw, home);
    buf_puts(&raw, "/.cache/gc-k8s");
  } else {
    // never a shared directory someone else could have made first: a private one per user
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/gc-k8s-%u", (unsigned)getuid());
    buf_puts(&raw, tmp);
  }
  if (raw.len == 0 || raw.p[0] != '/') return -1;  // relative: leave path.join's rules to Node
  const char *kc = getenv("KUBECONFIG");
  unsigned char digest[32];
  sha256((const unsigned char *)(kc != NULL ? kc : ""), kc != NULL ? strlen(kc) : 0, digest);
  char name[64];
  snprintf(name, sizeof name, "/daemon-%02x%02x%02x%02x%02x.sock", digest[0], digest[1], digest[2], digest[3], digest[4]);
  buf_puts(&raw, name);
  // path.join normalizes: no empty or "." segments, ".." climbs
  buf_putc(&raw, 0);
  size_t segs[512], nseg = 0;
  char *save = NULL;
  char *copy = raw.p;
  for (char *s = strtok_r(copy, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
    if (strcmp(s, ".") == 0) continue;
    if (strcmp(s, "..") == 0) {
      if (nseg > 0) nseg--;
      continue;
    }
    if (nseg == sizeof segs / sizeof segs[0]) return -1;
    segs[nseg++] = (size_t)(s - copy);
  }
  for (size_t i = 0; i < nseg; i++) {
    buf_putc(out, '/');
    buf_puts(out, copy + segs[i]);
  }
  buf_putc(out, 0);
  buf_free(&raw);
  return 0;
}

/*
 * The scripts send their environment (GC_DOLT_PASSWORD among it) to whatever answers: trust the
 * socket only when nobody but this user could have put it there (as src/protocol/socket-path.ts),
 * and after connecting, only a peer running as this user (SO_PEERCRED). Dies with the reason.
 */
static void verify_socket(const char *path) {
  uid_t me = getuid();
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == dir) slash[1] = 0;
  else if (slash != NULL) *slash = 0;
  else snprintf(dir, sizeof dir, ".");
  struct stat st;
  if (stat(dir, &st) == 0) {
    int sticky = (st.st_mode & S_ISVTX) != 0;
    char why[PATH_MAX + 96];
    if (!sticky && st.st_uid != me && st.st_uid != 0) {
      snprintf(why, sizeof why, "refusing the gc-k8s socket %s: its directory belongs to uid %u, not you (uid %u)", path, (unsigned)st.st_uid, (unsigned)me);
      die("%s", why);
    }
    if (!sticky && (st.st_mode & 0022) != 0) {
      snprintf(why, sizeof why, "refusing the gc-k8s socket %s: its directory %s is writable by others (mode %o)", path, dir, (unsigned)(st.st_mode & 0777));
      die("%s", why);
    }
  }
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) die("refusing %s: it is not a socket", path);
    if (st.st_uid != me) {
      char why[PATH_MAX + 96];
      snprintf(why, sizeof why, "refusing the gc-k8s socket %s: it belongs to uid %u, not you (uid %u)", path, (unsigned)st.st_uid, (unsigned)me);
      die("%s", why);
    }
  }
}

static int connect_daemon(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    char why[64];
    snprintf(why, sizeof why, "%zu bytes; Unix sockets take at most %zu", strlen(path), sizeof addr.sun_path - 1);
    die("the gc-k8s socket path is %s (set GC_K8S_SOCKET or XDG_RUNTIME_DIR to a shorter path)", why);
  }
  verify_socket(path);
  strcpy(addr.sun_path, path);
  for (int attempt = 0;; attempt++) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
      struct ucred peer;
      socklen_t len = sizeof peer;
      if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != getuid()) {
        char why[96];
        snprintf(why, sizeof why, "the process answering on it runs as uid %u, not you (uid %u)", (unsigned)peer.uid, (unsigned)getuid());
        die("refusing the gc-k8s socket: %s", why);
      }
      return fd;
    }
    int err = errno;
    close(fd);
    // a full accept backlog is load, not absence: wait briefly, as the Node client does
    if (err != EAGAIN || attempt >= 50) return -1;
    unsigned char r = 0;
    if (getrandom(&r, 1, 0) != 1) r = 40;
    sleep_ms(20 + r % 80);
  }
}

static size_t stdin_limit(const char *name) {
  for (const stdin_op_t *s = provider->stdin_ops; s->op != NULL; s++)
    if (strcmp(s->op, name) == 0) return s->limit;
  return 0;
}

static void format_bytes(char *out, size_t n, size_t v) {
  if (v >= MIB && v % MIB == 0)
    snprintf(out, n, "%zu MiB", v / MIB);
  else if (v >= KIB && v % KIB == 0)
    snprintf(out, n, "%zu KiB", v / KIB);
  else
    snprintf(out, n, "%zu bytes", v);
}

/* Reads stdin up to the op's limit: more is refused before anything is sent (as the Node client). */
static void read_stdin(buf_t *b, size_t limit) {
  char chunk[65536];
  size_t total = 0;
  for (;;) {
    ssize_t r = read(0, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // EOF, or no stdin at all
    total += (size_t)r;
    if (total <= limit) buf_put(b, chunk, (size_t)r);
    if (total > 10 * limit) break;
  }
  if (total <= limit) return;
  char lim[32];
  char seen[48];
  format_bytes(lim, sizeof lim, limit);
  if (total > 10 * limit) {
    char more[32];
    format_bytes(more, sizeof more, 10 * limit);
    snprintf(seen, sizeof seen, "more than %s", more);
  } else {
    snprintf(seen, sizeof seen, "%zu bytes", total);
  }
  fprintf(stderr, "%s: input is %s; %s accepts at most %s\n", op, seen, op, lim);
  exit(1);
}

static void make_rid(char out[37]) {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t r = getrandom(b + got, sizeof b - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("no randomness for the request id: %s", strerror(errno));
    got += (size_t)r;
  }
  b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
           b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int forwarded(const char *key, size_t n) {
  return (n >= 3 && memcmp(key, "GC_", 3) == 0) || (n >= 6 && memcmp(key, "BEADS_", 6) == 0) || (n == 10 && memcmp(key, "KUBECONFIG", 10) == 0) ||
         (n == 4 && memcmp(key, "HOME", 4) == 0);
}

static void build_request(buf_t *req, int argc, char **argv, const char *cwd, const char *rid, const buf_t *stdin_data) {
  buf_puts(req, "{\"v\":1,\"provider\":\"");
  buf_puts(req, provider->name);
  buf_puts(req, "\",\"op\":");
  json_string(req, op, strlen(op));
  buf_puts(req, ",\"args\":[");
  for (int i = 3; i < argc; i++) {
    if (i > 3) buf_putc(req, ',');
    json_string(req, argv[i], strlen(argv[i]));
  }
  buf_puts(req, "],\"env\":{");
  int first = 1;
  for (char **e = environ; *e != NULL; e++) {
    const char *eq = strchr(*e, '=');
    if (eq == NULL || !forwarded(*e, (size_t)(eq - *e))) continue;
    if (!first) buf_putc(req, ',');
    first = 0;
    json_string(req, *e, (size_t)(eq - *e));
    buf_putc(req, ':');
    json_string(req, eq + 1, strlen(eq + 1));
  }
  buf_puts(req, "},\"cwd\":");
  json_string(req, cwd, strlen(cwd));
  buf_puts(req, ",\"rid\":\"");
  buf_puts(req, rid);
  buf_putc(req, '"');
  if (stdin_data != NULL) {
    buf_puts(req, ",\"stdin\":");
    json_string(req, stdin_data->p != NULL ? stdin_data->p : "", stdin_data->len);
  }
  buf_puts(req, "}\n");
}

/** Relays frames until `end`; returns its exit code, or -1 if the daemon went away first. */
static int relay(int fd) {
  buf_t in = {0};
  frame_t f = {0};
  size_t start = 0;
  char chunk[65536];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE))) return -1;
    if (r < 0) die("connection to the gc-k8s daemon failed: %s", strerror(errno));
    size_t scan = in.len;
    buf_put(&in, chunk, (size_t)r);
    for (size_t i = scan; i < in.len; i++) {
      if (in.p[i] != '\n') continue;
      if (json_frame(in.p + start, i - start, &f) != 0) die("%s", "unreadable answer from the gc-k8s daemon");
      if (f.t.len == 3 && memcmp(f.t.p, "out", 3) == 0) {
        write_all(1, f.data.p, f.data.len);
      } else if (f.t.len == 3 && memcmp(f.t.p, "err", 3) == 0) {
        write_all(2, f.data.p, f.data.len);
      } else if (f.t.len == 3 && memcmp(f.t.p, "end", 3) == 0) {
        if (f.has_message) {
          buf_putc(&f.message, '\n');
          write_all(2, f.message.p, f.message.len);
        }
        return f.has_exit ? (int)(f.exit & 0xFF) : 1;
      }
      start = i + 1;
    }
    if (in.len - start > MAX_LINE_BYTES) die("%s", "protocol line longer than 64 MiB from the gc-k8s daemon");
    if (start > 0 && start * 2 >= in.len) {  // drop consumed lines
      memmove(in.p, in.p + start, in.len - start);
      in.len -= start;
      start = 0;
    }
  }
}

static void print_tables(void) {
  printf("{");
  for (size_t i = 0; i < sizeof PROVIDERS / sizeof PROVIDERS[0]; i++) {
    printf("%s\"%s\":{\"stdin\":{", i ? "," : "", PROVIDERS[i].name);
    for (const stdin_op_t *s = PROVIDERS[i].stdin_ops; s->op; s++) printf("%s\"%s\":%zu", s == PROVIDERS[i].stdin_ops ? "" : ",", s->op, s->limit);
    printf("}");
    printf(",\"retrySafe\":[");
    for (const char *const *s = PROVIDERS[i].retry_safe; *s; s++) printf("%s\"%s\"", s == PROVIDERS[i].retry_safe ? "" : ",", *s);
    printf("]}");
  }
  printf("}\n");
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--tables") == 0) {
    print_tables();
    return 0;
  }
  for (size_t i = 0; argc > 1 && i < sizeof PROVIDERS / sizeof PROVIDERS[0]; i++)
    if (strcmp(argv[1], PROVIDERS[i].name) == 0) provider = &PROVIDERS[i];
  if (provider == NULL) {
    fputs("usage: gc-k8s-client session|events|beads <op> [args...]\n", stderr);
    return 2;
  }
  if (argc < 3 || argv[2][0] == 0) {
    fprintf(stderr, "usage: gc-%s-k8s <op> [args...]\n", provider->name);
    return 2;
  }
  op = argv[2];
  if (strcmp(provider->name, "session") == 0 && strcmp(op, "protocol") == 0) {
    if (argc > 3) {
      fputs("gc-session-k8s protocol: takes no arguments\n", stderr);
      return 1;
    }
    fputs(HANDSHAKE, stdout);
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);  // a vanished daemon is an EPIPE we handle, not a silent death

  const char *force = getenv("GC_K8S_CLIENT");
  int streaming = (strcmp(provider->name, "session") == 0 && strcmp(op, "attach") == 0) ||
                  (strcmp(provider->name, "events") == 0 && strcmp(op, "watch") == 0);
  buf_t path = {0};
  if ((force != NULL && strcmp(force, "node") == 0) || streaming || socket_path(&path) != 0) fallback(argc, argv, NULL, NULL);
  int fd = connect_daemon(path.p);
  if (fd < 0) fallback(argc, argv, NULL, NULL);  // no daemon (yet): Node starts it

  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL) fallback(argc, argv, NULL, NULL);
  buf_t input = {0};
  size_t limit = stdin_limit(op);
  int reads_stdin = limit > 0;
  if (reads_stdin) read_stdin(&input, limit);
  char rid[37];
  make_rid(rid);
  buf_t req = {0};
  build_request(&req, argc, argv, cwd, rid, reads_stdin ? &input : NULL);

  int exit_code = write_all(fd, req.p, req.len) == 0 ? relay(fd) : -1;
  if (exit_code >= 0) return exit_code;
  close(fd);
  if (!in_list(provider->retry_safe, op)) {
    fprintf(stderr, "gc-%s-k8s %s: the gc-k8s daemon at %s closed the connection without an answer (did it crash? see its log)\n", provider->name, op,
            path.p);
    return 1;
  }
  fprintf(stderr, "gc-k8s: the daemon went away during %s; retrying with a new one\n", op);
  fallback(argc, argv, reads_stdin ? &input : NULL, rid);
  return 1;
}
