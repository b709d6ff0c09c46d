package main

import (
	"reflect"
	"testing"
)

func TestParseCreateTakesGcK8sShape(t *testing.T) {
	req, ok := parseCreate([]string{"create", "--json", "--title=t", "--type=bug", "--priority=1", "--description=d",
		"--assignee=ann", "--parent=gc-1", "--no-inherit-labels", "--external-ref=gh-1", `--labels=a,"b,c",ü`, `--metadata={"k":"v"}`})
	want := createReq{title: "t", issueType: "bug", priority: "1", description: "d", assignee: "ann", parent: "gc-1",
		noInheritLabels: true, externalRef: "gh-1", labels: []string{"a", "b,c", "ü"}, metadata: `{"k":"v"}`, hasMetadata: true}
	if !ok || !reflect.DeepEqual(req, want) {
		t.Fatalf("got %+v, %v", req, ok)
	}
	req, ok = parseCreate([]string{"create", "--json", "--title=t"})
	if !ok || req.issueType != "task" || req.priority != "2" || req.hasMetadata {
		t.Fatalf("bd's defaults: got %+v", req)
	}
}

func TestParseCreateLeavesOtherShapesToBd(t *testing.T) {
	for _, argv := range [][]string{
		{"create", "--title=t"},                          // no --json
		{"create", "--json", "t"},                        // positional title
		{"create", "--json", "--title", "t"},             // separate value
		{"create", "--json", "--title=t", "--deps=gc-1"}, // a flag not sent by gc-k8s
		{"create", "--json", "--title=a", "--title=b"},   // repeated
		{"create", "--json", "--title=t", `--labels="a`}, // broken CSV
	} {
		if _, ok := parseCreate(argv); ok {
			t.Errorf("%q: parsed", argv)
		}
	}
}

func TestParseUpdate(t *testing.T) {
	req, ok := parseUpdate([]string{"update", "--json", "--title=t", "--status=closed", "--add-label=a,b", "--add-label=c",
		"--remove-label=x", "--set-metadata=k=v=w", "--parent=", "--", "gc-1"})
	if !ok || req.id != "gc-1" || req.fields["title"] != "t" || req.fields["status"] != "closed" ||
		!reflect.DeepEqual(req.addLabels, []string{"a", "b", "c"}) || !reflect.DeepEqual(req.removeLabels, []string{"x"}) ||
		!reflect.DeepEqual(req.setMeta, []string{"k=v=w"}) {
		t.Fatalf("got %+v, %v", req, ok)
	}
	if p, set := req.fields["parent"]; !set || p != "" {
		t.Fatalf("an empty --parent removes the parent: %+v", req.fields)
	}
	for _, argv := range [][]string{
		{"update", "--json", "--title=t", "gc-1"},               // no --
		{"update", "--title=t", "--", "gc-1"},                   // no --json
		{"update", "--json", "--title=t", "--", "gc-1", "gc-2"}, // two ids
		{"update", "--json", "--claim", "--", "gc-1"},           // a flag not sent by gc-k8s
		{"update", "--json", "--title=a", "--title=b", "--", "gc-1"},
	} {
		if _, ok := parseUpdate(argv); ok {
			t.Errorf("%q: parsed", argv)
		}
	}
}

func TestParseClose(t *testing.T) {
	if id, ok := parseClose([]string{"close", "--json", "--force", "--", "gc-1"}); !ok || id != "gc-1" {
		t.Fatalf("got %q %v", id, ok)
	}
	for _, argv := range [][]string{
		{"close", "--json", "--", "gc-1"},                       // without --force bd's guards apply
		{"close", "--json", "--force", "--", "gc-1", "gc-2"},    // several ids
		{"close", "--json", "--force", "--reason=x", "--", "a"}, // a reason
		{"close", "--json", "--force", "--", ""},
	} {
		if _, ok := parseClose(argv); ok {
			t.Errorf("%q: parsed", argv)
		}
	}
}

func TestParseReopenTakesGcK8sShapeOnly(t *testing.T) {
	if id, ok := parseReopen([]string{"reopen", "--json", "--", "gc-1"}); !ok || id != "gc-1" {
		t.Fatalf("got %q, %v", id, ok)
	}
	for _, argv := range [][]string{
		{"reopen", "--json", "gc-1"},                     // no --
		{"reopen", "--json", "--", ""},                   // empty id
		{"reopen", "--json", "--", "gc-1", "gc-2"},       // several ids
		{"reopen", "--json", "--reason=x", "--", "gc-1"}, // a reason (bd adds a comment)
	} {
		if _, ok := parseReopen(argv); ok {
			t.Errorf("%q must run bd", argv)
		}
	}
}
