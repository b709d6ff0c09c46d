package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadRequestFraming(t *testing.T) {
	in := bufio.NewReader(strings.NewReader("3\x00create\x00--title=a\nb\x00--json\x000\x00"))
	argv, err := readRequest(in)
	if err != nil || strings.Join(argv, "|") != "create|--title=a\nb|--json" {
		t.Fatalf("got %q, %v", argv, err)
	}
	argv, err = readRequest(in)
	if err != nil || len(argv) != 0 {
		t.Fatalf("empty request: got %q, %v", argv, err)
	}
	if _, err := readRequest(in); !errors.Is(err, io.EOF) {
		t.Fatalf("end of input between requests: got %v", err)
	}
}

func TestReadRequestRejectsBadInput(t *testing.T) {
	for _, in := range []string{"x\x00", "-1\x00", "+1\x00a\x00", "\x00"} {
		_, err := readRequest(bufio.NewReader(strings.NewReader(in)))
		var bad badCount
		if !errors.As(err, &bad) {
			t.Errorf("%q: want a bad count, got %v", in, err)
		}
	}
	for _, in := range []string{"2\x00a\x00", "1\x00a", "1"} {
		if _, err := readRequest(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: want a truncated request, got %v", in, err)
		}
	}
}

func TestWriteReplyIsLengthDelimited(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeReply(w, reply{code: 1, stdout: []byte("é\n"), stderr: []byte("err")}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "\x1egcbd 1 3 3\né\nerr" {
		t.Fatalf("got %q", got)
	}
}
