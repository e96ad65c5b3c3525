package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// renumber takes address from away from dev in namespace ns for gap, then
// gives it address to instead: a DHCP lease that came back different, or a
// laptop moving from one network to another.
func (n *netPair) renumber(t *testing.T, ns, dev, from, to string, gap time.Duration) {
	t.Helper()
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
		}
	}
	ip("addr", "del", from, "dev", dev)
	time.Sleep(gap)
	ip("addr", "add", to, "dev", dev)
}

// statsFrames is the frames_recv of the last whole line of a --stats file,
// or -1 before the first.
func statsFrames(path string) int {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var st struct {
			FramesRecv int `json:"frames_recv"`
		}
		if json.Unmarshal([]byte(lines[i]), &st) == nil {
			return st.FramesRecv
		}
	}
	return -1
}

// TestCallSurvivesAddressChange: one side's address changes in the middle
// of a call (taken away for 3 s, then a different one given), as with a
// DHCP renewal or a move from Wi-Fi to Ethernet. The call resumes on the
// new address without a new exchange of blobs: video arrives again, both
// sides end normally, and the recording is one file that decodes cleanly
// with the frames from before and after the change.
func TestCallSurvivesAddressChange(t *testing.T) {
	testutil.NeedFFmpeg(t)
	t.Parallel() // it mostly waits for the address to come back
	tests := []struct {
		name     string
		side     func(n *netPair) (ns, dev string)
		from, to string
	}{
		{"answering side", func(n *netPair) (string, string) { return n.b, n.devB }, "192.0.2.2/24", "192.0.2.3/24"},
		{"offering side", func(n *netPair) (string, string) { return n.a, n.devA }, "192.0.2.1/24", "192.0.2.4/24"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetPair(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dir := t.TempDir()
			out, stats := filepath.Join(dir, "call.webm"), filepath.Join(dir, "stats.jsonl")
			common := []string{"--ice-server", "none"}
			offer, answer := call(t, ctx, callSpec{
				offerArgs:  append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--interface", n.devA}, common...),
				answerArgs: append([]string{"answer", "-o", out, "--stats", stats, "--interface", n.devB}, common...),
				offerIn:    n.in(n.a),
				answerIn:   n.in(n.b),
			})
			answer.waitFor(ctx, "receiving 320x240 video")
			waitStatsFrames(t, ctx, stats, 30)

			ns, dev := tc.side(n)
			n.renumber(t, ns, dev, tc.from, tc.to, 3*time.Second)
			before, readdressed := statsFrames(stats), time.Now()
			var resumed time.Duration

			// Two seconds of video on the new address: a call that cannot
			// follow the change receives nothing more.
			rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
			defer rcancel()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for f := statsFrames(stats); f < before+60; f = statsFrames(stats) {
				if f > before && resumed == 0 {
					resumed = time.Since(readdressed)
				}
				select {
				case <-tick.C:
				case <-rctx.Done():
					t.Fatalf("no video after the address change: %d frames received before, %d now\noffer:\n%s\nanswer:\n%s",
						before, statsFrames(stats), offer.errText(), answer.errText())
				}
			}
			t.Logf("video resumed within %s of the new address (stats lines come once a second)", resumed.Round(100*time.Millisecond))
			// The side that stayed put moved its pair onto the new address.
			stayed := answer
			if ns == n.b {
				stayed = offer
			}
			newIP, _, _ := strings.Cut(tc.to, "/")
			if m := firstLine(stayed.errText(), "connection: moved to "); !strings.Contains(m, newIP+":") {
				t.Errorf("%s did not say it moved to %s:\n%s", stayed.name, newIP, stayed.errText())
			} else {
				t.Logf("%s: %s", stayed.name, m)
			}

			if err := offer.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			waitOK(ctx, offer, answer)
			if !strings.Contains(answer.errText(), "the other side was interrupted (Ctrl-C)") {
				t.Errorf("the answer did not hear the hang-up over the new path:\n%s", answer.errText())
			}
			p := testutil.Probe(t, out)
			testutil.DecodesCleanly(t, out)
			if p.Frames < before+60 {
				t.Errorf("recording: %+v; want the %d frames from before the change and more after", p, before)
			}
		})
	}
}

// TestAddressGoneSaysWhere: when this machine's address goes away and no
// other comes, the side it went from says so (the network changed here),
// while the lost path lasts and when the silence rule ends the call; the
// other side keeps the usual lines about the other side.
func TestAddressGoneSaysWhere(t *testing.T) {
	testutil.NeedFFmpeg(t)
	t.Parallel() // it mostly waits out the silence rule
	n := newNetPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), "call.webm")
	offer, answer := n.call(t, ctx, out, "--silence-timeout", "8s")
	time.Sleep(time.Second) // some video on file
	if b, err := exec.Command("ip", "-n", n.b, "addr", "del", "192.0.2.2/24", "dev", n.devB).CombinedOutput(); err != nil {
		t.Fatalf("ip addr del: %v\n%s", err, b)
	}
	for _, p := range []*proc{offer, answer} {
		if code := p.wait(ctx); code != 1 {
			t.Errorf("%s exited %d; want 1\n%s", p.name, code, p.errText())
		}
	}
	here := answer.errText()
	for _, want := range []string{
		"connection: lost: this machine's address 192.0.2.2 went away; waiting for the network here to come back (up to 0:0",
		"p2pcam: no packets from the other side for 8s: this machine's address 192.0.2.2 went away (its network changed here)\n",
	} {
		if !strings.Contains(here, want) {
			t.Errorf("answer does not say %q:\n%s", want, here)
		}
	}
	if there := offer.errText(); !strings.Contains(there, "p2pcam: no packets from the other side for 8s: its machine or network is gone\n") {
		t.Errorf("offer should blame the other side's network:\n%s", there)
	}
	testutil.DecodesCleanly(t, out)
}
