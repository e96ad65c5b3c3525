package main

// The patience of the answering side, with the real binary: a call on
// loopback whose answer is pasted back late; and what the calls through
// NATs (nat_linux_test.go) share with it.

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

var connectedOver = regexp.MustCompile(`(?m)^connected over (\S+).*$`)

// pairKind is the kind of pair a p2pcam said it connected over, e.g.
// "srflx/udp", and the whole line; both "" before it connects.
func pairKind(p *proc) (kind, line string) {
	if m := connectedOver.FindStringSubmatch(p.errText()); m != nil {
		return m[1], m[0]
	}
	return "", ""
}

var errorLine = regexp.MustCompile(`(?m)^p2pcam: .*$`)

// waitConnected waits until p says it connected and returns the pair kind
// and the line; it fails the test as soon as p prints an error instead, so
// that a call that cannot connect fails in seconds, not at the deadline.
func waitConnected(ctx context.Context, p *proc) (kind, line string) {
	p.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if kind, line = pairKind(p); kind != "" {
			return kind, line
		}
		if m := errorLine.FindString(p.errText()); m != "" {
			p.t.Fatalf("%s failed instead of connecting: %s", p.name, m)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			p.t.Fatalf("%s did not connect in time", p.name)
		}
	}
}

// judgeRecording checks a short test-pattern call's recording: VP8 at the
// size sent, about as many frames as 2 s at 30 fps hold (a loaded machine
// drops some), every one decodable.
func judgeRecording(t *testing.T, path string) {
	t.Helper()
	got := testutil.Probe(t, path)
	if got.Codec != "vp8" || got.Width != 320 || got.Height != 240 || got.Frames < 30 || got.Frames > 75 {
		t.Fatalf("recording %s: %s %dx%d, %d frames; want vp8 320x240, 30 to 75 frames", filepath.Base(path), got.Codec, got.Width, got.Height, got.Frames)
	}
	testutil.DecodesCleanly(t, path)
}

// TestAnswerPastedBackLate: the answer blob reaches the offer 45 s after
// the answering side applied the offer, as when a person sends it through a
// chat app. pion's ICE agent would give up 30 s after it starts checking;
// p2pcam keeps the answering side's agent checking for the paste window,
// so the call still connects and records.
func TestAnswerPastedBackLate(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 45 s for the late paste")
	}
	testutil.NeedFFmpeg(t)
	t.Parallel()
	const delay = 45 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), delay+60*time.Second)
	defer cancel()
	var pasted time.Time
	offer, answer := call(t, ctx, callSpec{
		offerArgs: append([]string{"offer", "--source", "test", "--width", "320", "--height", "240",
			"--duration", "2s", "--connect-timeout", "10s"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "late.webm", "--connect-timeout", "10s"}, loopback...),
		beforePasteBack: func(offer, answer *proc, _ string) {
			answer.waitFor(ctx, "waiting up to 5:10 for the other side")
			// The person takes their time.
			late := time.NewTimer(delay)
			defer late.Stop()
			select {
			case <-late.C:
			case <-ctx.Done():
				t.Fatal("deadline before the paste")
			}
			t.Logf("while waiting, the offer said:\n%s\nand the answer said:\n%s", offer.errText(), answer.errText())
			if m := errorLine.FindString(answer.errText()); m != "" {
				t.Fatalf("the answering side gave up before the late paste: %s", m)
			}
			pasted = time.Now()
		},
	})
	_, line := waitConnected(ctx, offer)
	t.Logf("offer %s, %s after the late paste", line, time.Since(pasted).Round(10*time.Millisecond))
	waitOK(ctx, offer, answer)
	for _, p := range []*proc{offer, answer} {
		if got, _ := pairKind(p); got != "host/udp" {
			t.Errorf("%s connected over %q; want host/udp on loopback", p.name, got)
		}
	}
	judgeRecording(t, filepath.Join(answer.cmd.Dir, "late.webm"))
}
