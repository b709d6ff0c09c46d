package main

import (
	"context"
	"os"

	"github.com/steveyegge/beads"
)

// parseClose takes src/beads/bd-args.ts's closeArgs exactly: close --json --force -- <id>.
func parseClose(argv []string) (string, bool) {
	if len(argv) == 5 && argv[1] == "--json" && argv[2] == "--force" && argv[3] == "--" && argv[4] != "" {
		return argv[4], true
	}
	return "", false
}

// close is bd v1.0.0's `bd close --force <id>` (cmd/bd/close.go) for a bead without a parent:
// --force skips the epic, gate and blocker guards, and bd's molecule auto-close only acts on a
// bead under a parent, so those (and templates, and unknown ids) run bd instead.
func (s *server) close(ctx context.Context, st beads.Storage, id string) (reply, bool) {
	issue, err := st.GetIssue(ctx, id)
	if err != nil || issue == nil {
		return s.decline("reading %s: %v", id, err)
	}
	if issue.IsTemplate {
		return s.decline("%s is a template", id)
	}
	deps, ok := st.(dependencyRecords)
	if !ok {
		return s.decline("the store lists no dependency records")
	}
	records, err := deps.GetDependencyRecords(ctx, id)
	if err != nil {
		return s.decline("reading the dependencies of %s: %v", id, err)
	}
	for _, d := range records {
		if d.Type == beads.DepParentChild {
			return s.decline("%s has a parent (bd may close its molecule too)", id)
		}
	}
	const reason = "Closed" // bd's default; gc-k8s sends none
	if err := st.CloseIssue(ctx, id, reason, s.ident.actor, os.Getenv("CLAUDE_SESSION_ID")); err != nil {
		return s.decline("closing %s: %v", id, err) // rolled back: bd redoes it and reports its own error
	}
	s.auditChange(id, "status", string(issue.Status), "closed", reason)
	closed, _ := st.GetIssue(ctx, id)
	if closed == nil {
		return reply{}, true
	}
	return jsonReply([]*beads.Issue{closed}, nil), true
}
