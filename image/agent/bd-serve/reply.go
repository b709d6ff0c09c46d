package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
)

// One answer on the channel: bd's exit code, stdout and stderr.
type reply struct {
	code   int
	stdout []byte
	stderr []byte
}

func writeReply(out *bufio.Writer, r reply) error {
	if _, err := fmt.Fprintf(out, "\x1egcbd %d %d %d\n", r.code, len(r.stdout), len(r.stderr)); err != nil {
		return err
	}
	if _, err := out.Write(r.stdout); err != nil {
		return err
	}
	if _, err := out.Write(r.stderr); err != nil {
		return err
	}
	return out.Flush()
}

// jsonReply prints v as bd's outputJSON does (two-space indent, trailing newline).
func jsonReply(v any, stderr []byte) reply {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return failed(fmt.Errorf("encoding JSON: %w", err))
	}
	return reply{stdout: out.Bytes(), stderr: stderr}
}

// failed is bd's FatalError under --json: {"error": msg} on stderr, exit 1.
func failed(err error) reply {
	data, _ := json.MarshalIndent(map[string]string{"error": err.Error()}, "", "  ")
	return reply{code: 1, stderr: append(data, '\n')}
}
