package main

import (
	"context"
	"fmt"

	"github.com/steveyegge/beads"
)

// parseReopen takes src/beads/bd/args.ts's reopenArgs exactly: reopen --json -- <id>.
func parseReopen(argv []string) (string, bool) {
	if len(argv) == 4 && argv[1] == "--json" && argv[2] == "--" && argv[3] != "" {
		return argv[3], true
	}
	return "", false
}

// reopen is bd v1.0.0's `bd reopen --json <id>` (cmd/bd/reopen.go) for an id that names a bead
// as it is: an open bead is left alone with bd's note on stderr and no JSON; any other status
// becomes open through the storage call bd makes (no reason, so no comment). Ids bd would have
// to resolve (partial, routed, unknown) run bd.
func (s *server) reopen(ctx context.Context, st beads.Storage, id string) (reply, bool) {
	issue, err := st.GetIssue(ctx, id)
	if err != nil || issue == nil {
		return s.decline("reading %s: %v", id, err)
	}
	if issue.Status == beads.StatusOpen {
		return reply{stderr: []byte(fmt.Sprintf("%s is already open\n", id))}, true
	}
	if err := st.ReopenIssue(ctx, id, "", s.ident.actor); err != nil {
		return s.decline("reopening %s: %v", id, err) // nothing committed: bd redoes it and reports its own error
	}
	reopened, _ := st.GetIssue(ctx, id)
	if reopened == nil {
		return reply{}, true
	}
	return jsonReply([]*beads.Issue{reopened}, nil), true
}
