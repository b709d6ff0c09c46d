package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestConfigYAMLAllows(t *testing.T) {
	cases := map[string]bool{
		"# issue-prefix: \"\"\n# json: false\n\n":      true,
		"json: true\noutput:\n  title-length: 20\n":    true,
		"dolt.shared-server: true\nno-git-ops: true\n": true,
		"issue-prefix: x\n":                            false,
		"create.require-description: true\n":           false,
		"validation.on-create: error\n":                false,
		"routing:\n  mode: auto\n":                     false,
		"dolt:\n  auto-commit: batch\n":                false,
		"\"actor\": someone\n":                         false,
	}
	for text, want := range cases {
		if got := configYAMLAllows(text); got != want {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
	}
}

func TestEnvAllowsFastPath(t *testing.T) {
	if !envAllowsFastPath([]string{"BD_NON_INTERACTIVE=1", "BD_ACTOR=x", "BEADS_DOLT_AUTO_START=0", "HOME=/h"}) {
		t.Error("the runner's own settings must allow it")
	}
	if envAllowsFastPath([]string{"BD_CREATE_REQUIRE_DESCRIPTION=true"}) {
		t.Error("a bd config override in the environment must send writes to bd")
	}
}

func TestStoreAllowsFastPath(t *testing.T) {
	dir := t.TempDir()
	beadsDir := filepath.Join(dir, ".beads")
	if storeAllowsFastPath(dir) {
		t.Fatal("no store yet")
	}
	must(t, os.MkdirAll(beadsDir, 0o755))
	must(t, os.WriteFile(filepath.Join(beadsDir, "metadata.json"), []byte("{}"), 0o644))
	if !storeAllowsFastPath(dir) {
		t.Fatal("an initialized store without settings")
	}
	must(t, os.WriteFile(filepath.Join(beadsDir, "config.yaml"), []byte("# all commented\n"), 0o644))
	if !storeAllowsFastPath(dir) {
		t.Fatal("bd init's commented template")
	}
	must(t, os.MkdirAll(filepath.Join(beadsDir, "hooks"), 0o755))
	if !storeAllowsFastPath(dir) {
		t.Fatal("an empty hooks directory")
	}
	must(t, os.WriteFile(filepath.Join(beadsDir, "hooks", "on_create"), []byte("#!/bin/sh\n"), 0o755))
	if storeAllowsFastPath(dir) {
		t.Fatal("a hook bd would fire")
	}
}

func TestHasStoreAndResetStore(t *testing.T) {
	dir := t.TempDir()
	s := &server{dir: dir}
	if r := s.handle([]string{hasStore}); r.code != 1 {
		t.Fatalf("no store: %+v", r)
	}
	must(t, os.MkdirAll(filepath.Join(dir, ".beads"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".beads", "metadata.json"), []byte("{}"), 0o644))
	if r := s.handle([]string{hasStore}); r.code != 0 {
		t.Fatalf("store: %+v", r)
	}
	if r := s.handle([]string{resetStore}); r.code != 0 {
		t.Fatalf("reset: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, ".beads")); !os.IsNotExist(err) {
		t.Fatalf(".beads still there: %v", err)
	}
}

func TestRunBdReportsExitAndMissingProgram(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := runBd([]string{"version"})
	if r.code != 127 || len(r.stderr) == 0 {
		t.Fatalf("bd missing: %+v", r)
	}
	bin := t.TempDir()
	must(t, os.WriteFile(filepath.Join(bin, "bd"), []byte("#!/bin/sh\necho out; echo \"$@\" >&2; exit 4\n"), 0o755))
	t.Setenv("PATH", bin)
	r = runBd([]string{"a b", "c"})
	if r.code != 4 || string(r.stdout) != "out\n" || string(r.stderr) != "a b c\n" {
		t.Fatalf("got %+v", r)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
