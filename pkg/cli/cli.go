// Package cli is p2pcam's command line: the cobra command tree, flags
// turned into session configurations, and errors turned into one-line
// messages with hints and exit codes. It holds no media logic.
//
// Output rules: stdout carries only the product (a blob, a device list, or
// video with -o -); everything meant for a person goes to stderr. An error
// is one line, "p2pcam: what failed: why", optionally followed by
// "p2pcam: hint: ..." lines.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// Streams are the standard streams a command uses, injected so that tests
// can drive commands with buffers and pretend to be a terminal.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTerminal is In when it is an interactive terminal, else nil.
	InTerminal *os.File
	// OutTerminal and ErrTerminal say whether Out and Err are terminals.
	OutTerminal bool
	ErrTerminal bool
}

// env is what every command gets: its streams and the verbosity the
// flags asked for.
type env struct {
	Streams
	verbosity *int
}

// logger returns the logger at the verbosity the flags asked for.
func (e *env) logger() *slog.Logger {
	level := slog.LevelError
	switch {
	case *e.verbosity >= 2:
		level = slog.LevelDebug - 4
	case *e.verbosity == 1:
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(e.Err, &slog.HandlerOptions{Level: level}))
}

// Main runs p2pcam with args (without the program name) and returns the
// process exit code. ctx is cancelled on Ctrl-C/SIGTERM.
func Main(ctx context.Context, args []string, s Streams) int {
	verbosity := 0
	e := &env{Streams: s, verbosity: &verbosity}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	return report(s.Err, err, ctx.Err() != nil)
}

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// report prints err as p2pcam's one-line error with hints and picks the
// exit code.
func report(w io.Writer, err error, interrupted bool) int {
	if interrupted && errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "p2pcam: interrupted")
		return ExitInterrupted
	}
	fmt.Fprintf(w, "p2pcam: %s\n", err)
	for _, h := range hints(err) {
		fmt.Fprintf(w, "p2pcam: hint: %s\n", h)
	}
	if isUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isUsage reports errors in how p2pcam was called, including cobra's own
// (unknown commands, wrong argument counts), which it does not type.
func isUsage(err error) bool {
	var ue usageError
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "unknown flag", "unknown shorthand flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "p2pcam",
		Short: "Stream a camera to another machine, peer to peer, over WebRTC",
		Long: `p2pcam streams a camera to another machine over WebRTC, with no server in
between. One side runs "p2pcam offer" and gets a blob of text; the other runs
"p2pcam answer", pastes that blob, and gets a blob back to paste into the
first. Then video flows directly between the two machines.

  machine A:  p2pcam offer                 # camera -> prints an offer blob
  machine B:  p2pcam answer -o call.webm   # paste it; prints an answer blob
  machine A:  (paste the answer blob)      # video now records on machine B

Try it on one machine with the built-in test pattern:

  p2pcam offer --source test --ice-server none --interface lo`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().CountVarP(e.verbosity, "verbose", "v", "log more (-v debug and pion's warnings, -vv trace of pion's internals)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newOfferCmd(e), newAnswerCmd(e), newDevicesCmd(e), newVersionCmd(e))
	return root
}
