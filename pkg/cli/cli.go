// Package cli is p2pcam's command line: the cobra command tree, flags
// turned into session configurations, and errors turned into one-line
// messages with hints and exit codes. It holds no media logic.
//
// offer and answer run in one of four modes, by how the descriptions
// travel: copy-paste blobs (signal/paste), --whip, --whep (signal/whip)
// or --serve (pkg/serve). Their RunE only glues: validate, a pure
// function, refuses every flag that does nothing in the mode; config
// checks the values; a callRun carrying the mode and its configuration
// goes to the run function, which takes no cobra (tests give their own,
// as cli/cli's NewCmdX(f, runF) does).
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
	"syscall"

	"github.com/spf13/cobra"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/view"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// Streams are the standard streams a command uses, injected so that tests
// can drive commands with buffers and pretend to be a terminal. They are
// the streams the copy-paste exchange reads and prints blobs on.
type Streams = iostreams.Streams

// env is what every command gets: its streams and the verbosity the
// flags asked for.
type env struct {
	Streams
	verbosity *int
	display   Display // nil: no windows
}

// Display opens --view's windows: package view's Screen, whose loop owns
// the main thread (main runs Main under view.RunMain). Tests pass a fake,
// or none.
type Display interface {
	// Check says why no window can open here; it is called before any
	// network.
	Check() error
	// Open opens a window for a call.
	Open(view.Options) (view.Viewer, error)
}

// checkDisplay says why --view cannot open a window: there is no Display
// (view.ErrNoWindows), or what the Display lacks.
func (e *env) checkDisplay() error {
	if e.display == nil {
		return view.ErrNoWindows
	}
	return e.display.Check()
}

// logger returns the logger at the verbosity the flags asked for.
func (e *env) logger() *slog.Logger { return e.loggerTo(e.Err) }

// loggerTo is logger writing to w: a console keeps the log lines off its
// status line. -v is for people: p2pcam's own debug lines. pion's logs
// (its structs, and warnings that make a healthy call look broken) come
// only with -vv, together with its traces.
func (e *env) loggerTo(w io.Writer) *slog.Logger {
	return newLogger(w, *e.verbosity)
}

// newLogger returns the logger for a verbosity (the count of -v).
func newLogger(w io.Writer, verbosity int) *slog.Logger {
	level := slog.LevelError
	switch {
	case verbosity >= 2:
		level = slog.LevelDebug - 4
	case verbosity == 1:
		level = slog.LevelDebug
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(pionFilter{h: h, keep: verbosity >= 2})
}

// pionKey is the attribute pkg/peer's adapter tags pion's records with
// (its scope: "ice", "dtls", ...).
const pionKey = "pion"

// pionFilter drops pion's records unless keep: a logger carrying the
// pion attribute, or a record with it, is pion's.
type pionFilter struct {
	h    slog.Handler
	keep bool
	pion bool // this handler's attributes name a pion scope
}

func (f pionFilter) Enabled(ctx context.Context, l slog.Level) bool {
	if f.pion && !f.keep {
		return false
	}
	return f.h.Enabled(ctx, l)
}

func (f pionFilter) Handle(ctx context.Context, r slog.Record) error {
	if !f.keep {
		pion := f.pion
		r.Attrs(func(a slog.Attr) bool {
			pion = pion || a.Key == pionKey
			return !pion
		})
		if pion {
			return nil
		}
	}
	return f.h.Handle(ctx, r)
}

func (f pionFilter) WithAttrs(as []slog.Attr) slog.Handler {
	pion := f.pion
	for _, a := range as {
		pion = pion || a.Key == pionKey
	}
	return pionFilter{h: f.h.WithAttrs(as), keep: f.keep, pion: pion}
}

func (f pionFilter) WithGroup(name string) slog.Handler {
	return pionFilter{h: f.h.WithGroup(name), keep: f.keep, pion: f.pion}
}

// Main runs p2pcam with args (without the program name) and returns the
// process exit code. ctx is cancelled on Ctrl-C/SIGTERM. It opens no
// windows: --view says it has none (see MainWith).
func Main(ctx context.Context, args []string, s Streams) int {
	return MainWith(ctx, args, s, nil)
}

// MainWith is Main with d to open --view's windows; nil means none.
func MainWith(ctx context.Context, args []string, s Streams, d Display) int {
	verbosity := 0
	e := &env{Streams: s, verbosity: &verbosity, display: d}
	root := newRootCmd(e)
	// cobra's own completion commands check their arguments untyped.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			typeArgs(c)
		}
	}
	bashCompletion(root)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil || pipelineInterrupted(err, ctx.Err() != nil) {
		return ExitOK
	}
	return report(s.Err, err, ctx.Err() != nil)
}

// pipelineInterrupted reports a call stopped by Ctrl-C in a pipeline
// (p2pcam answer -o - | ffplay -): the signal reaches the player too,
// which is gone when p2pcam writes its last frames into the pipe. The
// person stopped the call: exit 0, as for any Ctrl-C during a call, not
// "broken pipe". (Before the call connects nothing is written, so a
// broken pipe cannot come of an interrupt then.)
func pipelineInterrupted(err error, interrupted bool) bool {
	return interrupted && errors.Is(err, syscall.EPIPE)
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
	fmt.Fprintf(w, "p2pcam: %s\n", message(err))
	for _, h := range hints(err) {
		fmt.Fprintf(w, "p2pcam: hint: %s\n", h)
	}
	if isUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isUsage reports errors in how p2pcam was called. Cobra's own (unknown
// commands and flags, wrong argument counts) are typed where they arise:
// by the flag error function and by usageArgs.
func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

// typeArgs makes the argument checks of c and its subcommands return
// usage errors.
func typeArgs(c *cobra.Command) {
	if c.Args != nil {
		c.Args = usageArgs(c.Args)
	}
	for _, sub := range c.Commands() {
		typeArgs(sub)
	}
}

// usageArgs wraps a cobra argument validator so that what it refuses is a
// usage error.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
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
		// With Args and RunE, cobra leaves unknown commands to rootArgs,
		// which suggests the nearest; bare p2pcam prints the help.
		Args:          rootArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().CountVarP(e.verbosity, "verbose", "v", "log more (-v p2pcam's debug lines, -vv also pion's logs and traces)")
	root.SetFlagErrorFunc(flagError)
	offer, answer := newOfferCmd(e, nil), newAnswerCmd(e, nil)
	addCompletions(offer, capture.CameraNames)
	addCompletions(answer, capture.CameraNames)
	root.AddCommand(offer, answer, newDevicesCmd(e), newVersionCmd(e))
	return root
}
