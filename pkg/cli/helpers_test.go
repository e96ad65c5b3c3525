package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/p2pcam/p2pcam/pkg/session"
)

// parseCallFlags parses args with the flags of the role's command and
// returns the options they set and the parsed flag set.
func parseCallFlags(t *testing.T, role session.Role, args []string) (*callOptions, *pflag.FlagSet) {
	t.Helper()
	o := &callOptions{}
	fs := pflag.NewFlagSet("p2pcam", pflag.ContinueOnError)
	addCallFlags(fs, o, role)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o, fs
}

// runGets executes the offer or answer command args name (args[0]) with
// the rest of args, and returns what the command hands its run function,
// which it must call.
func runGets(t *testing.T, args ...string) callRun {
	t.Helper()
	var got *callRun
	runF := func(_ context.Context, _ *env, r callRun) error { got = &r; return errors.New("ran") }
	v := 0
	e := &env{Streams: Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, verbosity: &v}
	cmd := newOfferCmd(e, runF)
	if args[0] == "answer" {
		cmd = newAnswerCmd(e, runF)
	}
	cmd.SetArgs(args[1:])
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err == nil || err.Error() != "ran" {
		t.Fatalf("Execute: %v", err)
	}
	if got == nil {
		t.Fatal("the run function was not called")
	}
	return *got
}

// runFails runs p2pcam in-process, wants exit code want and nothing on
// stdout (errors belong on stderr), and returns stderr and its lines.
func runFails(t *testing.T, want int, args ...string) (stderr string, lines []string) {
	t.Helper()
	code, stdout, stderr := run(t, "", args...)
	if code != want {
		t.Fatalf("exit %d; want %d\nstderr: %s", code, want, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout carries %q; errors belong on stderr", stdout)
	}
	return stderr, strings.Split(strings.TrimRight(stderr, "\n"), "\n")
}
