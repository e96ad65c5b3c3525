package main

// The command line as a person meets it, in testscript scripts
// (testdata/script/*.txtar): help, version, and every way of calling
// p2pcam wrongly, each with the exact message and exit code it earns.
// The p2pcam the scripts run is this test binary, re-run as main.

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			// The shapes of stderr after a failure, for `stderr $ERR_...`:
			// exactly one error line, then the hint lines said.
			e.Setenv("ERR_USAGE", `\Ap2pcam: .*\np2pcam: hint: see p2pcam --help, or p2pcam COMMAND --help\n\z`)
			e.Setenv("ERR_HINT", `\Ap2pcam: .*\np2pcam: hint: .*\n\z`)
			e.Setenv("ERR_ONLY", `\Ap2pcam: .*\n\z`)
			// Under -race, p2pcam would idle a second before a clean exit
			// (the race runtime's default atexit_sleep_ms).
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "camera":
				// What p2pcam devices would list on Linux.
				m, err := filepath.Glob("/dev/video*")
				return len(m) > 0, err
			}
			return false, errors.New("unknown condition " + cond)
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":  cmdExits,
			"mkfile": cmdMkfile,
		},
	})
}

// cmdExits is `exits CODE PROGRAM [ARGS...]`: it runs PROGRAM as exec
// does (stdout and stderr are kept for the next commands) and fails unless
// it exits with status CODE. `! exec` cannot tell a usage error (2) from
// a failure (1).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	var ee *exec.ExitError
	switch err := ts.Exec(args[1], args[2:]...); {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d; want %d", args[1], got, want)
	}
}

// cmdMkfile is `mkfile SIZE FILE`: it writes SIZE bytes of 'x' to FILE,
// for inputs too big to keep in a script.
func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkfile SIZE FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strings.Repeat("x", n)), 0o644))
}
