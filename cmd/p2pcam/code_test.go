package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/mailbox"
	"github.com/p2pcam/p2pcam/internal/testutil"
)

// codeOf waits for the offering side's "code: CODE" line on stdout.
func (p *proc) codeOf(ctx context.Context) string {
	p.t.Helper()
	line := p.blob(ctx)
	code, ok := strings.CutPrefix(line, "code: ")
	if !ok {
		p.t.Fatalf("%s printed %q, not a code", p.name, line)
	}
	return code
}

// TestCallByCode makes calls by short code through a mailbox server on
// loopback, the video going each way, and records it.
func TestCallByCode(t *testing.T) {
	testutil.NeedFFmpeg(t)
	srv := mailbox.Start(t, mailbox.Options{})
	tests := []struct {
		name                  string
		offerArgs, answerArgs []string
		recorder              string // which side records call.webm
		codeOnStdin           bool   // the code is piped into answer's stdin, not given as its argument
	}{
		{"offer sends", []string{"--source", "test"}, []string{"-o", "call.webm"}, "answer", false},
		{"answer sends", []string{"--source", "none", "-o", "call.webm"}, []string{"--source", "test", "-o", "none"}, "offer", false},
		{"two-way", []string{"--source", "test", "-o", "back.webm"}, []string{"--source", "test", "-o", "call.webm"}, "answer", false},
		{"four words", []string{"--source", "test", "--code-words", "4"}, []string{"-o", "call.webm"}, "answer", false},
		{"code on answer's stdin", []string{"--source", "test"}, []string{"-o", "call.webm"}, "answer", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			const duration = 2 * time.Second
			began := time.Now()
			offer := start(t, ctx, "offer", false, append(append([]string{"offer", "--code", "--rendezvous", srv.URL(), "--duration", duration.String()}, loopback...), tc.offerArgs...)...)
			code := offer.codeOf(ctx)
			printed := time.Since(began)
			offer.waitFor(ctx, "on the other machine, run: p2pcam answer "+code+" --rendezvous "+srv.URL())
			answerAt := time.Now()
			answerArgs := append(append([]string{"answer", "--rendezvous", srv.URL()}, loopback...), tc.answerArgs...)
			if !tc.codeOnStdin {
				answerArgs = append(answerArgs, code)
			}
			answer := start(t, ctx, "answer", false, answerArgs...)
			if tc.codeOnStdin {
				answer.paste(code)
			}
			offer.waitFor(ctx, "connected over")
			connected := time.Since(answerAt)
			rec := answer
			if tc.recorder == "offer" {
				rec = offer
			}
			rec.waitFor(ctx, "receiving 640x480 video")
			firstFrame := time.Since(answerAt)
			waitOK(ctx, offer, answer)
			t.Logf("code %s printed %v after offer started; from answer's start: connected after %v, first frame after %v",
				code, printed.Round(time.Millisecond), connected.Round(time.Millisecond), firstFrame.Round(time.Millisecond))
			path := filepath.Join(rec.cmd.Dir, "call.webm")
			got := testutil.Probe(t, path)
			want := int(duration.Seconds() * 30)
			if got.Codec != "vp8" || got.Width != 640 || got.Height != 480 || got.Frames < want*6/10 {
				t.Fatalf("recording = %s %dx%d %d frames; want vp8 640x480 about %d frames", got.Codec, got.Width, got.Height, got.Frames, want)
			}
			testutil.DecodesCleanly(t, path)
			if slices.Contains(tc.offerArgs, "back.webm") {
				back := filepath.Join(offer.cmd.Dir, "back.webm")
				if got := testutil.Probe(t, back); got.Codec != "vp8" || got.Frames < want*6/10 {
					t.Errorf("the way back recorded %s with %d frames", got.Codec, got.Frames)
				}
			}
			for _, p := range []*proc{offer, answer} {
				if !strings.Contains(p.errText(), "verification code: ") {
					t.Errorf("%s showed no verification code:\n%s", p.name, p.errText())
				}
			}
		})
	}
}

// TestCodeAgainstPaste logs, for the record, the time from answer's start
// to the first frame with copy-paste (the blobs carried at once, as by a
// machine) on the same loopback, to set beside TestCallByCode's figures.
func TestCodeAgainstPaste(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	began := time.Now()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--duration", "1s"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
	})
	answer.waitFor(ctx, "receiving 640x480 video")
	t.Logf("copy-paste: first frame %v after both sides started", time.Since(began).Round(time.Millisecond))
	waitOK(ctx, offer, answer)
}

// TestCodeFailuresBothSides checks the failures a person meets with codes:
// each side says what went wrong in one line and what to do.
func TestCodeFailuresBothSides(t *testing.T) {
	t.Parallel()
	srv := mailbox.Start(t, mailbox.Options{})
	t.Run("wrong code", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		offer := start(t, ctx, "offer", false, append([]string{"offer", "--code", "--source", "test", "--rendezvous", srv.URL()}, loopback...)...)
		code := offer.codeOf(ctx)
		words := strings.Split(code, "-")
		wrong := words[0] + "-" + words[1] + "-" + map[bool]string{true: "zulu", false: "aardvark"}[words[2] != "zulu"]
		began := time.Now()
		answer := start(t, ctx, "answer", false, append([]string{"answer", wrong, "-o", "call.webm", "--rendezvous", srv.URL()}, loopback...)...)
		for _, p := range []*proc{offer, answer} {
			if c := p.wait(ctx); c != 1 {
				t.Errorf("%s exited %d, want 1", p.name, c)
			}
			if !strings.Contains(p.errText(), "the code did not match: a typo, or someone tried to guess it") ||
				!strings.Contains(p.errText(), "p2pcam: hint: start again with a new code") {
				t.Errorf("%s did not say the code did not match:\n%s", p.name, p.errText())
			}
		}
		if d := time.Since(began); d > 20*time.Second {
			t.Errorf("a wrong code took %v to end both sides", d)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		offer := start(t, ctx, "offer", false, append([]string{"offer", "--code", "--source", "test", "--rendezvous", srv.URL()}, loopback...)...)
		code := offer.codeOf(ctx)
		offer.waitFor(ctx, "for the other side to use the code")
		if err := offer.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if c := offer.wait(ctx); c != 130 {
			t.Errorf("offer exited %d after Ctrl-C, want 130\n%s", c, offer.errText())
		}
		// The nameplate was released and the mailbox closed: the code
		// leads nowhere now.
		answer := start(t, ctx, "answer", false, append([]string{"answer", code, "-o", "call.webm", "--rendezvous", srv.URL()}, loopback...)...)
		if c := answer.wait(ctx); c != 1 || !strings.Contains(answer.errText(), "nobody is waiting with this code") {
			t.Errorf("answer with the code of an interrupted offer exited %d:\n%s", c, answer.errText())
		}
	})
	t.Run("server down", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		down := "ws://" + testutil.ClosedAddr(t) + "/v1"
		answer := start(t, ctx, "answer", false, append([]string{"answer", "7-guitarist-revenge", "-o", "call.webm", "--rendezvous", down}, loopback...)...)
		if c := answer.wait(ctx); c != 1 {
			t.Errorf("answer exited %d, want 1", c)
		}
		if !strings.Contains(answer.errText(), "rendezvous server "+down+": cannot reach it") ||
			!strings.Contains(answer.errText(), "leave out --code") {
			t.Errorf("answer did not name the server and the way around it:\n%s", answer.errText())
		}
	})
}

// TestCodeTypedAtThePrompt runs `p2pcam answer` on a pseudo-terminal and
// types the code at its prompt, key by key, as a person reads it out.
func TestCodeTypedAtThePrompt(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	srv := mailbox.Start(t, mailbox.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--code", "--source", "test", "--duration", "2s", "--rendezvous", srv.URL()}, loopback...)...)
	code := offer.codeOf(ctx)
	dir := t.TempDir()
	answer := startTTY(t, ctx, dir, 100, append([]string{"answer", "-o", "tty.webm", "--rendezvous", srv.URL()}, loopback...)...)
	answer.waitScreen(regexp.MustCompile(`Paste the offer blob, or type the code, and press Enter:`))
	for _, c := range strings.ReplaceAll(code, "-", " ") {
		answer.press(string(c))
	}
	answer.press("\r")
	if c := offer.wait(ctx); c != 0 {
		t.Fatalf("offer exited %d\n%s", c, offer.errText())
	}
	answer.waitOK()
	answer.assertEcho()
	for _, want := range []string{"meeting the other side at " + srv.URL() + " with code " + code, "connected over host/udp", "verification code: "} {
		if !strings.Contains(answer.seen(), want) {
			t.Errorf("terminal lacks %q:\n%q", want, answer.seen())
		}
	}
	// A 2 s call: 15 frames is a moving picture even with the other tests
	// running side by side (it recorded 29 at a load of 28).
	if got := testutil.Probe(t, filepath.Join(dir, "tty.webm")); got.Codec != "vp8" || got.Frames < 15 {
		t.Fatalf("recording: %s %d frames", got.Codec, got.Frames)
	}
}
