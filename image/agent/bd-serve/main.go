// gc-bd-serve is the runner side of gc-k8s's persistent bd channel (src/beads/channel-protocol.ts).
//
// It speaks that channel's framing exactly: requests are NUL-terminated fields (the argument
// count, then each argument) and each reply is "\x1egcbd <exit> <stdout bytes> <stderr bytes>\n"
// followed by the raw stdout and stderr. The writes gc makes most, `create`, `update` and `close`
// in the exact shapes gc-k8s sends, are answered in this long-lived process through beads' own
// public storage API (the code bd itself calls), so they skip bd's start-up, which is nearly all
// of a write's cost. Everything else, and any request or store that leaves the shapes below,
// runs the real bd as a child process, as the bash loop this replaces did.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Exit codes shared with the bash loop of channel-protocol.ts.
const (
	exitNoDir      = 3
	exitBadCount   = 5
	exitShortInput = 6
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gc-bd-serve <store directory>")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o777); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitNoDir)
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitNoDir)
	}
	srv := newServer(dir)
	defer srv.drop()
	fmt.Fprintf(os.Stderr, "gc-bd-serve: serving %s (actor %q)\n", dir, srv.ident.actor)
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	for {
		argv, err := readRequest(in)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			var bad badCount
			if errors.As(err, &bad) {
				os.Exit(exitBadCount)
			}
			os.Exit(exitShortInput)
		}
		r := srv.handle(argv)
		if err := writeReply(out, r); err != nil {
			os.Exit(1)
		}
	}
}

type badCount string

func (b badCount) Error() string { return "bad argument count " + strconv.Quote(string(b)) }

// readRequest reads one request; io.EOF only when the input ends between requests.
func readRequest(in *bufio.Reader) ([]string, error) {
	count, err := in.ReadString(0)
	if err != nil {
		if errors.Is(err, io.EOF) && count == "" {
			return nil, io.EOF
		}
		return nil, io.ErrUnexpectedEOF
	}
	count = count[:len(count)-1]
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || count == "" || count[0] == '+' || count[0] == '-' {
		return nil, badCount(count)
	}
	argv := make([]string, 0, n)
	for len(argv) < n {
		a, err := in.ReadString(0)
		if err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		argv = append(argv, a[:len(a)-1])
	}
	return argv, nil
}
