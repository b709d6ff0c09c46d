package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/steveyegge/beads"
)

type customStatuses interface {
	GetCustomStatuses(ctx context.Context) ([]string, error)
}

type dependencyRecords interface {
	GetDependencyRecords(ctx context.Context, issueID string) ([]*beads.Dependency, error)
}

// bd's storage.ValidateMetadataKey.
var metadataKey = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.]*$`)

// update is bd v1.0.0's `bd update <id>` (cmd/bd/update.go) for the flags gc-k8s sends except
// --type (bd's alias normalization is not public API; such updates run bd). Every check bd makes
// before its first write is made here first, so done=false never leaves a half-applied update.
func (s *server) update(ctx context.Context, st beads.Storage, req updateReq) (reply, bool) {
	f := req.fields
	if _, ok := f["type"]; ok {
		return s.decline("a type change (bd normalizes type aliases)")
	}
	if len(f) == 0 && len(req.addLabels) == 0 && len(req.removeLabels) == 0 && len(req.setMeta) == 0 {
		return s.decline("nothing to update")
	}
	updates := map[string]any{}
	if status, ok := f["status"]; ok {
		cs, okCS := st.(customStatuses)
		if !okCS {
			return s.decline("the store lists no custom statuses")
		}
		custom, err := cs.GetCustomStatuses(ctx)
		if err != nil || !beads.Status(status).IsValidWithCustom(custom) {
			return s.decline("status %q (%v)", status, err)
		}
		updates["status"] = status
		if session := os.Getenv("CLAUDE_SESSION_ID"); status == "closed" && session != "" {
			updates["closed_by_session"] = session
		}
	}
	if p, ok := f["priority"]; ok {
		priority, okP := simplePriority(p)
		if !okP {
			return s.decline("priority %q", p)
		}
		updates["priority"] = priority
	}
	if t, ok := f["title"]; ok {
		t = strings.TrimSpace(t)
		if t == "" {
			return s.decline("an empty title")
		}
		updates["title"] = t
	}
	if a, ok := f["assignee"]; ok {
		updates["assignee"] = a
	}
	if d, ok := f["description"]; ok {
		updates["description"] = d
	}
	issue, err := st.GetIssue(ctx, req.id)
	if err != nil || issue == nil {
		return s.decline("reading %s: %v", req.id, err)
	}
	if issue.IsTemplate {
		return s.decline("%s is a template", req.id)
	}
	if len(req.setMeta) > 0 {
		merged, ok := editMetadata(issue.Metadata, req.setMeta)
		if !ok {
			return s.decline("metadata keys or existing metadata bd refuses")
		}
		updates["metadata"] = merged
	}
	newParent, reparent := f["parent"]
	deps, okDeps := st.(dependencyRecords)
	if reparent && newParent != "" {
		if p, err := st.GetIssue(ctx, newParent); err != nil || p == nil {
			return s.decline("reading parent %s: %v", newParent, err)
		}
	}
	if reparent && !okDeps {
		return s.decline("the store lists no dependency records")
	}

	if len(updates) > 0 {
		if err := st.UpdateIssue(ctx, req.id, updates, s.ident.actor); err != nil {
			return s.decline("updating %s: %v", req.id, err) // rolled back: bd redoes it and reports its own error
		}
		s.audit(req.id, issue, updates)
	}
	if err := applyLabels(ctx, st, req.id, s.ident.actor, req.addLabels, req.removeLabels); err != nil {
		return reply{code: 1, stderr: []byte(fmt.Sprintf("Error updating labels for %s: %v\n", req.id, err))}, true
	}
	var warn []byte
	if reparent {
		records, err := deps.GetDependencyRecords(ctx, req.id)
		if err != nil {
			return reply{code: 1, stderr: []byte(fmt.Sprintf("Error getting dependencies for %s: %v\n", req.id, err))}, true
		}
		for _, d := range records {
			if d.Type == beads.DepParentChild {
				if err := st.RemoveDependency(ctx, req.id, d.DependsOnID, s.ident.actor); err != nil {
					warn = fmt.Appendf(warn, "Error removing old parent dependency: %v\n", err)
				}
				break
			}
		}
		if newParent != "" {
			dep := &beads.Dependency{IssueID: req.id, DependsOnID: newParent, Type: beads.DepParentChild}
			if err := st.AddDependency(ctx, dep, s.ident.actor); err != nil {
				return reply{code: 1, stderr: fmt.Appendf(warn, "Error adding parent dependency: %v\n", err)}, true
			}
		}
	}
	updated, _ := st.GetIssue(ctx, req.id)
	if updated == nil {
		return reply{stderr: warn}, true // bd prints nothing for a bead it cannot re-read
	}
	return jsonReply([]*beads.Issue{updated}, warn), true
}

func applyLabels(ctx context.Context, st beads.Storage, id, actor string, add, remove []string) error {
	for _, l := range add {
		if err := st.AddLabel(ctx, id, l, actor); err != nil {
			return err
		}
	}
	for _, l := range remove {
		if err := st.RemoveLabel(ctx, id, l, actor); err != nil {
			return err
		}
	}
	return nil
}

// editMetadata is bd's --set-metadata: keys validated, values typed as JSON where they parse.
func editMetadata(existing json.RawMessage, set []string) (json.RawMessage, bool) {
	data := map[string]json.RawMessage{}
	if trimmed := strings.TrimSpace(string(existing)); trimmed != "" && trimmed != "null" {
		if err := json.Unmarshal(existing, &data); err != nil {
			return nil, false
		}
	}
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !metadataKey.MatchString(k) {
			return nil, false
		}
		data[k] = jsonValue(v)
	}
	out, err := json.Marshal(data)
	return out, err == nil
}

// jsonValue is bd's toJSONValue: null, booleans and numbers stay typed, the rest is a string.
func jsonValue(s string) json.RawMessage {
	if s == "null" || s == "true" || s == "false" {
		return json.RawMessage(s)
	}
	if _, err := fmt.Sscanf(s, "%f", new(float64)); err == nil && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// audit appends bd's field_change entries for an update's status, assignee and priority.
func (s *server) audit(id string, old *beads.Issue, updates map[string]any) {
	if v, ok := updates["status"].(string); ok {
		s.auditChange(id, "status", string(old.Status), v, "")
	}
	if v, ok := updates["assignee"].(string); ok {
		s.auditChange(id, "assignee", old.Assignee, v, "")
	}
	if v, ok := updates["priority"].(int); ok {
		s.auditChange(id, "priority", strconv.Itoa(old.Priority), strconv.Itoa(v), "")
	}
}

// auditChange is bd's audit.LogFieldChange: one line in .beads/interactions.jsonl, best effort.
func (s *server) auditChange(id, field, oldValue, newValue, reason string) {
	if oldValue == newValue {
		return
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return
	}
	extra := map[string]any{"field": field, "old_value": oldValue, "new_value": newValue}
	if reason != "" {
		extra["reason"] = reason
	}
	entry := auditEntry{
		ID: "int-" + hex.EncodeToString(rnd[:]), Kind: "field_change", CreatedAt: time.Now().UTC(),
		Actor: s.ident.actor, IssueID: id, Extra: extra,
	}
	f, err := os.OpenFile(filepath.Join(s.dir, ".beads", "interactions.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(entry)
	_ = w.Flush()
}

// auditEntry: the fields of bd's audit.Entry a field_change uses, in bd's order.
type auditEntry struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	CreatedAt time.Time      `json:"created_at"`
	Actor     string         `json:"actor,omitempty"`
	IssueID   string         `json:"issue_id,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"`
}
