package main

// Blob mix-ups and --remote named pipes, with the real binary: an answer
// made for another offer, a second answer to a connected offer, and an
// offer or answer that reads the other side's blob from a FIFO.

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestStaleAnswerRejected: the answer to a second offer, pasted into the
// first, is refused before it is applied, with exit status 1, instead of
// a connect timeout that blames the network.
func TestStaleAnswerRejected(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"offer", "--source", "test"}, loopback...)
	first := start(t, ctx, "first offer", false, args...)
	firstBlob := first.blob(ctx)
	second := start(t, ctx, "second offer", false, args...)
	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "none", "--source", "test"}, loopback...)...)
	answer.paste(second.blob(ctx))
	stale := answer.blob(ctx)
	if stale == firstBlob {
		t.Fatal("the answer blob is the offer blob")
	}

	first.paste(stale)
	if code := first.wait(ctx); code != 1 {
		t.Fatalf("first offer exited %d; want 1\n%s", code, first.errText())
	}
	got := first.errText()
	for _, want := range []string{
		"\np2pcam: this answer is for a different offer\n",
		"\np2pcam: hint: paste the one `p2pcam answer` printed for this call's offer blob",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "connecting") || strings.Contains(got, "STUN") {
		t.Errorf("the stale answer was applied:\n%s", got)
	}
}

// TestSecondAnswerRefused: once an offer has its answer, another answer
// pasted into it gets a message saying it is ignored, and the call goes
// on until Ctrl-C ends it (exit status 0, as for any call that ran).
func TestSecondAnswerRefused(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test"}, loopback...)...)
	offerBlob := offer.blob(ctx)
	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "call.webm"}, loopback...)...)
	answer.paste(offerBlob)
	offer.paste(answer.blob(ctx))
	offer.waitFor(ctx, "connected")

	// A second viewer answers the same offer blob.
	other := start(t, ctx, "second answer", false, append([]string{"answer", "-o", "none", "--source", "test", "--connect-timeout", "1s", "--paste-timeout", "1s"}, loopback...)...)
	other.paste(offerBlob)
	offer.paste(other.blob(ctx))
	offer.waitFor(ctx, "p2pcam: this offer has already taken an answer, so a second one is ignored\n")
	offer.waitFor(ctx, "p2pcam: hint: each offer serves one answer, and this call goes on")
	if err := offer.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitOK(ctx, offer, answer)
	if got := offer.errText(); !strings.Contains(got, "\nstopping\n") {
		t.Errorf("the call did not go on until Ctrl-C:\n%s", got)
	}
	answer.waitFor(ctx, "the other side was interrupted (Ctrl-C)")
}

// TestRemoteFIFO: offer --remote FIFO prints its blob before anyone
// writes to the pipe, then reads the answer from it; the call connects.
func TestRemoteFIFO(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fifo := filepath.Join(t.TempDir(), "answer.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test", "--duration", "2s", "--remote", fifo}, loopback...)...)
	blob := offer.blob(ctx) // before any writer opens the pipe
	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "call.webm"}, loopback...)...)
	answer.paste(blob)
	if err := os.WriteFile(fifo, []byte(answer.blob(ctx)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitOK(ctx, offer, answer)
}

// TestRemoteFIFOInterrupt: Ctrl-C (SIGINT) while offer or answer waits
// for a writer on its --remote FIFO ends it at once with status 130.
func TestRemoteFIFOInterrupt(t *testing.T) {
	t.Parallel()
	for _, role := range []string{"offer", "answer"} {
		t.Run(role, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			fifo := filepath.Join(t.TempDir(), "blob.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			// At 10 s left, the countdown says the wait has begun.
			args := []string{role, "--remote", fifo, "--paste-timeout", "12s"}
			if role == "offer" {
				args = append(args, "--source", "test")
			} else {
				args = append(args, "-o", "call.webm")
			}
			p := start(t, ctx, role, false, append(args, loopback...)...)
			if role == "offer" {
				p.blob(ctx)
			}
			p.waitFor(ctx, "left to paste the")
			if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(ctx); code != 130 {
				t.Fatalf("%s exited %d; want 130\n%s", role, code, p.errText())
			}
			if got := p.errText(); !strings.HasSuffix(got, "p2pcam: interrupted\n") {
				t.Errorf("stderr does not end with the interruption:\n%s", got)
			}
		})
	}
}

// TestOfferAtATerminalRefusesMixups runs `p2pcam offer` on a real
// pseudo-terminal: an answer made for another offer is refused and the
// offer asks again; the right answer connects; a second answer pasted
// during the call is refused with a message and the call goes on until
// Ctrl-C, typed at the terminal, ends it, leaving the terminal as it found
// it (bracketed paste off again).
func TestOfferAtATerminalRefusesMixups(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(binPath, append([]string{"offer", "--source", "test", "--width", "320", "--height", "240"}, loopback...)...)
	cmd.Dir = t.TempDir()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	seen := keepScreen(tty)
	waitScreen := func(re *regexp.Regexp, n int) []string {
		t.Helper()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if m := re.FindAllStringSubmatch(seen(), -1); len(m) >= n {
				return m[n-1]
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("terminal never showed %v %d times; it shows:\n%q", re, n, seen())
			}
		}
	}
	pasteIn := func(blob string) {
		t.Helper()
		if _, err := tty.WriteString("\x1b[200~" + blob + "\x1b[201~\r"); err != nil {
			t.Fatal(err)
		}
	}
	m := waitScreen(regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)\x07`), 1)
	clip, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	offerBlob := string(clip)
	prompt := regexp.MustCompile(`Paste the answer blob`)
	waitScreen(prompt, 1)

	// The answer to another offer.
	second := start(t, ctx, "second offer", false, append([]string{"offer", "--source", "test"}, loopback...)...)
	other := start(t, ctx, "other answer", false, append([]string{"answer", "-o", "none", "--source", "test"}, loopback...)...)
	other.paste(second.blob(ctx))
	pasteIn(other.blob(ctx))
	waitScreen(regexp.MustCompile(`p2pcam: this answer is for a different offer\r\np2pcam: hint: paste the one `+"`p2pcam answer`"), 1)
	waitScreen(prompt, 2)

	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "call.webm"}, loopback...)...)
	answer.paste(offerBlob)
	answerBlob := answer.blob(ctx)
	pasteIn(answerBlob)
	waitScreen(regexp.MustCompile(`connected over`), 1)
	pasteIn(answerBlob)
	waitScreen(regexp.MustCompile(`p2pcam: this offer has already taken an answer, so a second one is ignored\r\n`), 1)
	if _, err := tty.WriteString("\x03"); err != nil { // Ctrl-C
		t.Fatal(err)
	}

	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("offer: %v\n%q", err, seen())
		}
	case <-ctx.Done():
		t.Fatalf("offer did not exit:\n%q", seen())
	}
	waitOK(ctx, answer)
	got := seen()
	if !strings.Contains(got, "stopping\r\n") {
		t.Errorf("the call did not go on until Ctrl-C:\n%q", got)
	}
	if on, off := strings.LastIndex(got, "\x1b[?2004h"), strings.LastIndex(got, "\x1b[?2004l"); off < on {
		t.Errorf("bracketed paste left on at exit:\n%q", got)
	}
}
