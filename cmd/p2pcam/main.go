// Command p2pcam streams a camera to another machine over WebRTC, peer to
// peer, with copy-paste signaling. See pkg/cli for the commands.
//
// The main OS thread belongs to --view's windows (SDL must own it on
// macOS): init locks the main goroutine to it, and view.RunMain runs their
// loop there and the command on another goroutine.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/term"

	"github.com/p2pcam/p2pcam/internal/debugserve"
	"github.com/p2pcam/p2pcam/pkg/cli"
	"github.com/p2pcam/p2pcam/pkg/view"
)

// init keeps the main goroutine on the main OS thread from the start (a
// lock taken in main could come after the goroutine moved): main, and so
// view.RunMain's loop, runs on it.
func init() { runtime.LockOSThread() }

func main() {
	os.Exit(view.RunMain(run))
}

// run runs the command with the process's streams and signals, opening
// windows on scr.
func run(scr *view.Screen) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A player that closes the pipe of -o - must not kill p2pcam: with
	// SIGPIPE ignored the write fails with EPIPE and the call hangs up
	// cleanly, telling the other side.
	signal.Ignore(syscall.SIGPIPE)
	// A soak run samples memory and profiles through a loopback-only
	// endpoint, served only when asked for.
	if a := os.Getenv(debugserve.Env); a != "" {
		addr, stop, err := debugserve.Start(a)
		if err != nil {
			fmt.Fprintf(os.Stderr, "p2pcam: debug endpoint: %v\n", err)
			return 2
		}
		defer stop()
		fmt.Fprintf(os.Stderr, "p2pcam: debug: http://%s/debug/mem\n", addr)
	}
	s := cli.Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	s.TTY = func() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }
	if term.IsTerminal(int(os.Stdin.Fd())) {
		s.InTerminal = os.Stdin
	}
	return cli.MainWith(ctx, os.Args[1:], s, scr)
}
