package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/steveyegge/beads"
)

// Not bd arguments (channel-protocol.ts): does this directory hold its own store; forget it.
const (
	hasStore   = "--gc-has-store"
	resetStore = "--gc-reset-store"
)

// opDeadline bounds one in-process write, inside the daemon's default op deadline (25 s).
const opDeadline = 20 * time.Second

type server struct {
	dir   string
	ident identity
	// envOK is false when the environment sets bd options (BD_*) that bd's command layer would
	// honour and the in-process path does not: then every call runs bd.
	envOK bool
	store beads.Storage
	// config is the store's config table when it was opened: custom types, statuses and infra
	// types are cached by the storage layer, so a change made by any bd reopens the store.
	config map[string]string
	// why the last in-process op handed its request to bd (see decline)
	why string
}

// decline hands the request to bd (nothing written) and says why, for the daemon's log.
func (s *server) decline(format string, args ...any) (reply, bool) {
	s.why = fmt.Sprintf(format, args...)
	return reply{}, false
}

func newServer(dir string) *server {
	return &server{dir: dir, ident: currentIdentity(), envOK: envAllowsFastPath(os.Environ())}
}

func (s *server) handle(argv []string) reply {
	if len(argv) > 0 {
		switch argv[0] {
		case hasStore:
			if _, err := os.Stat(filepath.Join(s.dir, ".beads", "metadata.json")); err != nil {
				return reply{code: 1}
			}
			return reply{}
		case resetStore:
			s.drop()
			if err := os.RemoveAll(filepath.Join(s.dir, ".beads")); err != nil {
				return reply{code: 1, stderr: []byte(err.Error() + "\n")}
			}
			return reply{}
		case "create":
			req, ok := parseCreate(argv)
			if r, done := s.fast("create", ok, func(ctx context.Context, st beads.Storage) (reply, bool) { return s.create(ctx, st, req) }); done {
				return r
			}
		case "update":
			req, ok := parseUpdate(argv)
			if r, done := s.fast("update", ok, func(ctx context.Context, st beads.Storage) (reply, bool) { return s.update(ctx, st, req) }); done {
				return r
			}
		case "close":
			id, ok := parseClose(argv)
			if r, done := s.fast("close", ok, func(ctx context.Context, st beads.Storage) (reply, bool) { return s.close(ctx, st, id) }); done {
				return r
			}
		case "reopen":
			id, ok := parseReopen(argv)
			if r, done := s.fast("reopen", ok, func(ctx context.Context, st beads.Storage) (reply, bool) { return s.reopen(ctx, st, id) }); done {
				return r
			}
		}
	}
	r := runBd(argv)
	if len(argv) == 0 || !keepsStoreConfig[argv[0]] {
		s.drop() // init, config, migrate and the like may change what the open store assumed
	}
	return r
}

// keepsStoreConfig: delegated commands after which the open store is still valid.
var keepsStoreConfig = map[string]bool{
	"create": true, "update": true, "show": true, "list": true, "ready": true,
	"close": true, "reopen": true, "delete": true, "dep": true, "version": true,
}

// fast runs an in-process op on the open store when this store allows it. done=false means
// nothing was written and the request must go to bd, which then gives bd's own answer. Each such
// hand-over is one line on this process's stderr, which the daemon logs.
func (s *server) fast(name string, parsed bool, op func(context.Context, beads.Storage) (reply, bool)) (reply, bool) {
	why := ""
	switch {
	case !parsed:
		why = "arguments outside the in-process shapes"
	case !s.envOK:
		why = "BD_* settings in the environment"
	case !storeAllowsFastPath(s.dir):
		why = "the store's .beads has settings, hooks or a redirect bd would apply, or is not initialized"
	}
	if why == "" {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		defer cancel()
		st, err := s.open(ctx)
		s.why = ""
		if err != nil {
			why = "opening the store: " + err.Error()
		} else if r, done := op(ctx, st); done {
			return r, true
		} else {
			why = s.why
		}
	}
	fmt.Fprintf(os.Stderr, "gc-bd-serve: %s ran bd: %s\n", name, why)
	return reply{}, false
}

// Checking and opening are bounded well inside the daemon's op deadline: when Dolt is in
// trouble the request still reaches bd in time to fail with bd's own message.
const (
	checkDeadline = 5 * time.Second
	openDeadline  = 10 * time.Second
)

func (s *server) open(ctx context.Context) (beads.Storage, error) {
	if s.store != nil {
		check, cancel := context.WithTimeout(ctx, checkDeadline)
		current, err := s.store.GetAllConfig(check)
		cancel()
		if err == nil && maps.Equal(current, s.config) {
			return s.store, nil
		}
		s.drop()
		if err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, openDeadline)
	defer cancel()
	st, err := beads.OpenFromConfig(ctx, filepath.Join(s.dir, ".beads"))
	if err != nil {
		return nil, err
	}
	config, err := st.GetAllConfig(ctx)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	s.store, s.config = st, config
	return st, nil
}

func (s *server) drop() {
	if s.store != nil {
		_ = s.store.Close()
		s.store, s.config = nil, nil
	}
}

// runBd runs bd as the bash loop did: stdin from /dev/null, output captured whole.
func runBd(argv []string) reply {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bd", argv...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := reply{stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
	default:
		r.code = 127
		r.stderr = append(r.stderr, fmt.Sprintf("gc-bd-serve: cannot run bd: %v\n", err)...)
	}
	return r
}

// envAllowsFastPath: bd reads BD_* variables as config overrides (viper); only the ones the
// runner sets on purpose, or that change nothing for create/update, are known here.
func envAllowsFastPath(environ []string) bool {
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "BD_") && name != "BD_NON_INTERACTIVE" && name != "BD_ACTOR" {
			return false
		}
	}
	return true
}

// storeAllowsFastPath: an initialized store whose .beads holds nothing bd's command layer
// would act on for create/update (hooks, a redirect, config.yaml settings beyond these).
func storeAllowsFastPath(dir string) bool {
	beadsDir := filepath.Join(dir, ".beads")
	if _, err := os.Stat(filepath.Join(beadsDir, "metadata.json")); err != nil {
		return false
	}
	if _, err := os.Stat(filepath.Join(beadsDir, "redirect")); err == nil {
		return false
	}
	if hooks, err := os.ReadDir(filepath.Join(beadsDir, "hooks")); err == nil && len(hooks) > 0 {
		return false
	}
	data, err := os.ReadFile(filepath.Join(beadsDir, "config.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	return err == nil && configYAMLAllows(string(data))
}

// configYAMLAllows: every top-level key set in config.yaml leaves create/update alone.
func configYAMLAllows(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || strings.TrimSpace(line) == "" {
			continue
		}
		key, _, _ := strings.Cut(line, ":")
		key = strings.Trim(strings.TrimSpace(key), `"'`)
		root, _, _ := strings.Cut(key, ".")
		if !harmlessConfigRoots[root] && !harmlessConfigKeys[key] {
			return false
		}
	}
	return true
}

var (
	harmlessConfigRoots = map[string]bool{"json": true, "output": true, "no-git-ops": true, "sync": true, "backup": true}
	harmlessConfigKeys  = map[string]bool{"dolt.shared-server": true, "dolt.auto-start": true}
)
