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
	dir := t.TempDir()
	out := filepath.Join(dir, "call.webm")
	offerStats, answerStats := filepath.Join(dir, "offer.jsonl"), filepath.Join(dir, "answer.jsonl")
	offer, answer := n.callStats(t, ctx, out, offerStats, answerStats, "--silence-timeout", "8s")
	waitCounts(t, ctx, answerStats, "frames received", func(c countLine) bool { return c.FramesRecv > 0 })
	n.cutInto(t, n.a, n.devA)
	cut := time.Now()
	atCut := lastCounts(t, answerStats).T
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
	// Frames sent after the cut (from the sender's line for the second
	// after it: a lower bound) against what arrived: the video that kept
	// flowing through the cut was received and is on file.
	sent, recv := finalCounts(t, offerStats), finalCounts(t, answerStats)
	sentAfter := sent.FramesSent - countsAt(t, offerStats, atCut+1).FramesSent
	t.Logf("sent %d frames, at least %d after the cut; received %d", sent.FramesSent, sentAfter, recv.FramesRecv)
	if sentAfter < sent.FramesSent/2 {
		t.Errorf("the offering side sent %d of its %d frames after the cut; want most: it goes on sending until its silence timeout", sentAfter, sent.FramesSent)
	}
	if recv.FramesRecv < sent.FramesSent*95/100 {
		t.Errorf("received %d of the %d frames sent; want 95%%: the working direction kept carrying video", recv.FramesRecv, sent.FramesSent)
	}
	p := testutil.Probe(t, out)
	testutil.DecodesCleanly(t, out)
	if p.Frames < recv.FramesRecv*95/100 {
		t.Errorf("recording: %+v; want the %d frames received", p, recv.FramesRecv)
	}
}
