package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// cutInto drops everything arriving in namespace ns on dev: one direction
// of the link only.
func (n *netPair) cutInto(t *testing.T, ns, dev string) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (apt-get install -y nftables)")
	}
	for _, args := range [][]string{
		{"add", "table", "inet", "p2pone"},
		{"add", "chain", "inet", "p2pone", "in", "{ type filter hook input priority 0; }"},
		{"add", "rule", "inet", "p2pone", "in", "iifname", dev, "drop"},
	} {
		if out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("nft %s in %s: %v\n%s", strings.Join(args, " "), ns, err, out)
		}
	}
}

// TestOneWayLossEndsBothSidesTogether: the path from the answering side
// back to the offering side fails (it carries the RTCP reports and the
// ICE consent responses) while video still flows the other way. The
// offering side then hears nothing: RFC 7675 §5.1 forbids it to go on
// sending once consent is not refreshed for 30 s, so it ends the call
// after --silence-timeout, as it would for a gone peer; its BYE still
// travels the working direction, and the answering side, which was
// receiving video all along, ends too, saying why, with its recording
// finalized.
func TestOneWayLossEndsBothSidesTogether(t *testing.T) {
	t.Parallel() // it mostly waits out timeouts
	testutil.NeedFFmpeg(t)
	n := newNetPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), "call.webm")
	offer, answer := n.call(t, ctx, out, "--silence-timeout", "8s")
	time.Sleep(time.Second) // some video on file
	n.cutInto(t, n.a, n.devA)
	cut := time.Now()
	if code := offer.wait(ctx); code != 1 || !strings.Contains(offer.errText(), "p2pcam: no packets from the other side for 8s: its machine or network is gone\n") {
		t.Errorf("offer exited %d; want 1 with the silence line\n%s", code, offer.errText())
	}
	offerEnd := time.Since(cut)
	code := answer.wait(ctx)
	t.Logf("offer ended %.1f s after the cut, answer %.3f s after the offer", offerEnd.Seconds(), time.Since(cut).Seconds()-offerEnd.Seconds())
	if code != 0 || !strings.Contains(answer.errText(), "the other side heard nothing from this side for its --silence-timeout and hung up") {
		t.Errorf("answer exited %d; want 0, told why\n%s", code, answer.errText())
	}
	if strings.Contains(answer.errText(), "connection: lost") {
		t.Errorf("answer reported its path lost while video kept coming\n%s", answer.errText())
	}
	p := testutil.Probe(t, out)
	testutil.DecodesCleanly(t, out)
	// 1 s before the cut and 8 s after it at 30 fps: video flowed
	// through the cut.
	if p.Frames < 150 {
		t.Errorf("recording: %+v; want the video that kept flowing after the cut", p)
	}
}
