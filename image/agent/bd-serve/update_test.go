package main

import (
	"encoding/json"
	"testing"
)

func TestJSONValueTypesLikeBd(t *testing.T) {
	for in, want := range map[string]string{
		"null": "null", "true": "true", "42": "42", "-1.5e3": "-1.5e3",
		"x=1": `"x=1"`, "": `""`, "NaN": `"NaN"`, "0x10": `"0x10"`, "1 2": `"1 2"`,
	} {
		if got := string(jsonValue(in)); got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
}

func TestEditMetadataMergesAndValidatesKeys(t *testing.T) {
	got, ok := editMetadata(json.RawMessage(`{"a":"1","keep":true}`), []string{"a=2", "gc.routed_to=x=y"})
	if !ok || string(got) != `{"a":2,"gc.routed_to":"x=y","keep":true}` {
		t.Fatalf("got %s, %v", got, ok)
	}
	if got, ok := editMetadata(nil, []string{"k=v"}); !ok || string(got) != `{"k":"v"}` {
		t.Fatalf("no metadata yet: got %s, %v", got, ok)
	}
	for _, bad := range []string{"1k=v", "k-k=v", "=v", "novalue"} {
		if _, ok := editMetadata(nil, []string{bad}); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, ok := editMetadata(json.RawMessage(`[1]`), []string{"k=v"}); ok {
		t.Error("metadata that is not an object must go to bd")
	}
}

func TestSimplePriority(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "4": 4} {
		if got, ok := simplePriority(in); !ok || got != want {
			t.Errorf("%q: got %d %v", in, got, ok)
		}
	}
	for _, in := range []string{"5", "P1", "", "12", "-1"} {
		if _, ok := simplePriority(in); ok {
			t.Errorf("%q accepted (bd parses it)", in)
		}
	}
}

func TestIdentityOrder(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	git := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if a := actorFrom(env(map[string]string{"BD_ACTOR": "bd", "BEADS_ACTOR": "beads"}), git(nil)); a != "bd" {
		t.Errorf("BD_ACTOR (bd's config key) first: %s", a)
	}
	if a := actorFrom(env(map[string]string{"USER": "u"}), git(map[string]string{"user.name": "g"})); a != "g" {
		t.Errorf("git before USER: %s", a)
	}
	if a := actorFrom(env(nil), git(nil)); a != "unknown" {
		t.Errorf("fallback: %s", a)
	}
	if o := ownerFrom(env(map[string]string{"GIT_AUTHOR_EMAIL": "e"}), git(map[string]string{"user.email": "g"})); o != "e" {
		t.Errorf("owner: %s", o)
	}
}
