package main

import (
	"encoding/csv"
	"strings"
)

// The exact argv shapes src/beads/bd-args.ts builds for create and update (close: close.go):
// `--name=value` flags, `--json` always, no positional title, update's id after `--`. Anything
// else is not parsed here (ok=false) and goes to bd, which then parses it itself.

type createReq struct {
	title, issueType, description, assignee, parent, externalRef, priority, metadata string
	hasMetadata                                                                      bool
	labels                                                                           []string
	noInheritLabels                                                                  bool
}

func parseCreate(argv []string) (createReq, bool) {
	req := createReq{issueType: "task", priority: "2"} // bd create's flag defaults
	textFlags := map[string]*string{
		"title": &req.title, "type": &req.issueType, "priority": &req.priority, "description": &req.description,
		"assignee": &req.assignee, "parent": &req.parent, "external-ref": &req.externalRef,
	}
	seen := map[string]bool{}
	json := false
	for _, a := range argv[1:] {
		switch a {
		case "--json":
			json = true
			continue
		case "--no-inherit-labels":
			req.noInheritLabels = true
			continue
		}
		name, value, ok := flag(a)
		if !ok || seen[name] {
			return req, false
		}
		seen[name] = true
		if field, ok := textFlags[name]; ok {
			*field = value
			continue
		}
		switch name {
		case "labels":
			labels, ok := csvValues(value)
			if !ok {
				return req, false
			}
			req.labels = labels
		case "metadata":
			req.metadata, req.hasMetadata = value, true
		default:
			return req, false
		}
	}
	return req, json
}

type updateReq struct {
	id                               string
	fields                           map[string]string // title, status, type, priority, description, assignee, parent
	addLabels, removeLabels, setMeta []string
}

func parseUpdate(argv []string) (updateReq, bool) {
	req := updateReq{fields: map[string]string{}}
	json := false
	rest := argv[1:]
	for i, a := range rest {
		if a == "--" {
			if len(rest) != i+2 || !json {
				return req, false
			}
			req.id = rest[i+1]
			return req, req.id != ""
		}
		if a == "--json" {
			json = true
			continue
		}
		name, value, ok := flag(a)
		if !ok {
			return req, false
		}
		switch name {
		case "title", "status", "type", "priority", "description", "assignee", "parent":
			if _, dup := req.fields[name]; dup {
				return req, false
			}
			req.fields[name] = value
		case "add-label", "remove-label":
			labels, ok := csvValues(value)
			if !ok {
				return req, false
			}
			if name == "add-label" {
				req.addLabels = append(req.addLabels, labels...)
			} else {
				req.removeLabels = append(req.removeLabels, labels...)
			}
		case "set-metadata":
			req.setMeta = append(req.setMeta, value)
		default:
			return req, false
		}
	}
	return req, false
}

// flag splits `--name=value`.
func flag(a string) (string, string, bool) {
	if !strings.HasPrefix(a, "--") {
		return "", "", false
	}
	name, value, ok := strings.Cut(a[2:], "=")
	return name, value, ok && name != ""
}

// csvValues reads a string-slice flag value as pflag does (one CSV record; empty → none).
func csvValues(v string) ([]string, bool) {
	if v == "" {
		return []string{}, true
	}
	rec, err := csv.NewReader(strings.NewReader(v)).Read()
	return rec, err == nil
}
