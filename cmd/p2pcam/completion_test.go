package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestBashCompletion loads `p2pcam completion bash` into an interactive
// bash started with --norc, so without the bash-completion package's
// functions, and presses Tab as a person would: commands, flags, the
// --source keywords and .y4m files complete, and nothing complains about
// a missing _get_comp_words_by_ref. Where the package is installed, the
// same again with it loaded first.
func TestBashCompletion(t *testing.T) {
	t.Parallel()
	t.Run("without bash-completion", func(t *testing.T) { bashCompletion(t, "") })
	const pkg = "/usr/share/bash-completion/bash_completion"
	t.Run("with bash-completion", func(t *testing.T) {
		if _, err := os.Stat(pkg); err != nil {
			t.Skip("the bash-completion package is not installed (apt-get install bash-completion)")
		}
		bashCompletion(t, pkg)
	})
}

// bashCompletion runs the Tab cases in bash, with the bash-completion
// script pkg sourced first unless pkg is "".
func bashCompletion(t *testing.T, pkg string) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	for _, f := range []string{"clips/beach.y4m", "clips/notes.txt"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		typed string // then Tab
		want  string // the line reads this after the Tab
	}{
		{"p2pcam of", "p2pcam offer "},
		{"p2pcam offer --sou", "p2pcam offer --source "},
		{"p2pcam offer --source te", "p2pcam offer --source test "},
		{"p2pcam answer --source no", "p2pcam answer --source none "},
		{"p2pcam offer --source cl", "p2pcam offer --source clips/"},
		{"p2pcam offer --source clips/b", "p2pcam offer --source clips/beach.y4m "},
		{"p2pcam offer --blob-format pi", "p2pcam offer --blob-format pion "},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.Command(bash, "--norc", "--noprofile", "-i")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binPath)+":"+os.Getenv("PATH"), "PS1=$ ", "TERM=dumb", "INPUTRC=/dev/null")
			tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
			if err != nil {
				t.Skipf("no pty: %v", err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = tty.Close() }()
			seen := keepScreen(tty)
			waitFor := func(s string) {
				t.Helper()
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for !strings.Contains(seen(), s) {
					select {
					case <-tick.C:
					case <-ctx.Done():
						t.Fatalf("terminal never showed %q:\n%q", s, seen())
					}
				}
			}
			type keys string
			press := func(k keys) {
				if _, err := tty.WriteString(string(k)); err != nil {
					t.Fatal(err)
				}
			}
			if pkg != "" {
				press(keys(". " + pkg + "; "))
			}
			// The quotes keep the echo of this line from reading as the
			// marker: only the command's output says "loaded".
			press("source <(p2pcam completion bash); echo load''ed\r")
			waitFor("loaded\r\n$ ")
			// Tab, then a marker to see where the line ends; readline
			// takes it once the completion is done.
			press(keys(tt.typed) + "\t")
			press("#END")
			waitFor("#END")
			lines := render(200, seen())
			var line string
			for _, l := range lines {
				if strings.Contains(l, "#END") {
					line = strings.TrimSuffix(strings.TrimPrefix(l, "$ "), "#END")
				}
			}
			if line != tt.want {
				t.Errorf("after Tab the line reads %q, want %q", line, tt.want)
			}
			if strings.Contains(seen(), "command not found") || strings.Contains(seen(), "_get_comp_words_by_ref") {
				t.Errorf("bash complained:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}
