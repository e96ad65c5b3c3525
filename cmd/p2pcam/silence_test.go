package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestSilentPeerEndsTheCall: when one side dies without a word (SIGKILL:
// no BYE, no DTLS close), each way round, the other ends the call after
// --silence-timeout with the reason, exit 1, and a finalized recording
// (the reason shows it was the silence rule, not ICE's own timeout, that
// ended it; how long it took is logged, not asserted).
func TestSilentPeerEndsTheCall(t *testing.T) {
	testutil.NeedFFmpeg(t)
	t.Parallel() // it mostly waits out timeouts
	for _, killed := range []string{"offer", "answer"} {
		t.Run(killed+" killed", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dir := t.TempDir()
			// Two-way, so that each side records what the other sent.
			offerOut, answerOut := filepath.Join(dir, "at-offer.ivf"), filepath.Join(dir, "at-answer.webm")
			common := append([]string{"--source", "test", "--width", "320", "--height", "240", "--silence-timeout", "3s"}, loopback...)
			offer, answer := call(t, ctx, callSpec{
				offerArgs:  append([]string{"offer", "-o", offerOut}, common...),
				answerArgs: append([]string{"answer", "-o", answerOut}, common...),
			})
			offer.waitFor(ctx, "receiving 320x240 video")
			answer.waitFor(ctx, "receiving 320x240 video")
			victim, survivor, file := offer, answer, answerOut
			if killed == "answer" {
				victim, survivor, file = answer, offer, offerOut
			}
			time.Sleep(time.Second) // some video on file
			_ = victim.cmd.Process.Kill()
			at := time.Now()
			code := survivor.wait(ctx)
			took := time.Since(at)
			if code != 1 || !strings.Contains(survivor.errText(), "p2pcam: no packets from the other side for 3s: its machine or network is gone\n") {
				t.Fatalf("exit %d after %.1fs; want 1 with the silence line\n%s", code, took.Seconds(), survivor.errText())
			}
			t.Logf("the %s side gave up %.1f s after the other was killed", survivor.name, took.Seconds())
			p := testutil.Probe(t, file)
			testutil.DecodesCleanly(t, file)
			// The second before the kill, less the offer's start: its
			// own recording begins a moment after the answer's.
			if p.Frames < 20 {
				t.Errorf("recording: %+v; want the second before the kill", p)
			}
		})
	}
}
