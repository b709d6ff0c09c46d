package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/steveyegge/beads"
)

// committer is the Dolt commit bd create makes after labels and the parent link.
type committer interface {
	Commit(ctx context.Context, message string) error
}

// create is bd v1.0.0's `bd create` (cmd/bd/create.go) for the flags gc-k8s sends: the same
// storage calls in the same order, the same defaults and identity, the same commit, the same
// JSON. done=false (nothing written) sends the request to bd, for bd's own answer or error.
func (s *server) create(ctx context.Context, st beads.Storage, req createReq) (reply, bool) {
	priority, ok := simplePriority(req.priority)
	switch {
	case !ok:
		return s.decline("priority %q", req.priority)
	case req.title == "":
		return s.decline("no title")
	case req.parent != "" && !req.noInheritLabels:
		return s.decline("a parent's labels to inherit")
	case req.hasMetadata && !json.Valid([]byte(req.metadata)):
		return s.decline("metadata that is not JSON")
	}
	commit, canCommit := st.(committer)
	if !canCommit && (req.parent != "" || len(req.labels) > 0) {
		return s.decline("the store cannot make bd's second commit")
	}
	id := ""
	if req.parent != "" {
		if _, err := st.GetIssue(ctx, req.parent); err != nil {
			return s.decline("reading parent %s: %v", req.parent, err)
		}
		ids, ok := st.(childIDs)
		if !ok || !prefixAllowed(ctx, st, req.parent) {
			return s.decline("parent %s outside the store's prefixes", req.parent)
		}
		child, err := ids.GetNextChildID(ctx, req.parent)
		if err != nil {
			return failed(err), true
		}
		id = child
	}
	issue := &beads.Issue{
		ID:          id,
		Title:       req.title,
		Description: req.description,
		Status:      beads.StatusOpen,
		Priority:    priority,
		IssueType:   beads.IssueType(req.issueType).Normalize(),
		Assignee:    req.assignee,
		CreatedBy:   s.ident.actor,
		Owner:       s.ident.owner,
	}
	if req.externalRef != "" {
		ref := req.externalRef
		issue.ExternalRef = &ref
	}
	if req.hasMetadata {
		issue.Metadata = json.RawMessage(req.metadata)
	}
	if err := st.CreateIssue(ctx, issue, s.ident.actor); err != nil {
		if id != "" {
			return failed(err), true // a child number is taken; bd would fail the same way
		}
		return s.decline("creating: %v", err) // rolled back: bd redoes it and reports its own error
	}
	var warnings bytes.Buffer
	postCreateWrites := false
	if req.parent != "" {
		dep := &beads.Dependency{IssueID: issue.ID, DependsOnID: req.parent, Type: beads.DepParentChild}
		if err := st.AddDependency(ctx, dep, s.ident.actor); err != nil {
			fmt.Fprintf(&warnings, "Warning: failed to add parent-child dependency %s -> %s: %v\n", issue.ID, req.parent, err)
		} else {
			postCreateWrites = true
		}
	}
	for _, label := range req.labels {
		if err := st.AddLabel(ctx, issue.ID, label, s.ident.actor); err != nil {
			fmt.Fprintf(&warnings, "Warning: failed to add label %s: %v\n", label, err)
		} else {
			postCreateWrites = true
		}
	}
	if postCreateWrites {
		if err := commit.Commit(ctx, fmt.Sprintf("bd: create %s", issue.ID)); err != nil && !nothingToCommit(err) {
			fmt.Fprintf(&warnings, "Warning: failed to commit: %v\n", err)
		}
	}
	return jsonReply(issue, warnings.Bytes()), true
}

type childIDs interface {
	GetNextChildID(ctx context.Context, parentID string) (string, error)
}

// prefixAllowed: bd create validates a --parent child id against the store's prefix
// (validation.ValidateIDFormat and ValidateIDPrefixAllowed); a child id starts as its parent.
func prefixAllowed(ctx context.Context, st beads.Storage, parent string) bool {
	if !strings.Contains(parent, "-") {
		return false
	}
	dbPrefix, _ := st.GetConfig(ctx, "issue_prefix")
	if dbPrefix == "" || strings.HasPrefix(parent, dbPrefix+"-") {
		return true
	}
	allowed, _ := st.GetConfig(ctx, "allowed_prefixes")
	for _, a := range strings.Split(allowed, ",") {
		a = strings.TrimSuffix(strings.TrimSpace(a), "-")
		if a != "" && strings.HasPrefix(parent, a+"-") {
			return true
		}
	}
	return false
}

// simplePriority accepts the plain 0-4 gc-k8s sends; bd parses anything else.
func simplePriority(v string) (int, bool) {
	if len(v) == 1 && v[0] >= '0' && v[0] <= '4' {
		return int(v[0] - '0'), true
	}
	return 0, false
}

func nothingToCommit(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "nothing to commit")
}
