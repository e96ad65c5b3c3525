package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// cut drops everything arriving on each namespace's link (the packets
// vanish on the wire; sends still succeed), until the returned heal runs.
func (n *netPair) cut(t *testing.T) (heal func()) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (apt-get install -y nftables)")
	}
	nft := func(ns string, args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("nft %s in %s: %v\n%s", strings.Join(args, " "), ns, err, out)
		}
	}
	for _, side := range []struct{ ns, dev string }{{n.a, n.devA}, {n.b, n.devB}} {
		nft(side.ns, "add", "table", "inet", "p2pcut")
		nft(side.ns, "add", "chain", "inet", "p2pcut", "in", "{ type filter hook input priority 0; }")
		nft(side.ns, "add", "rule", "inet", "p2pcut", "in", "iifname", side.dev, "drop")
	}
	return func() {
		for _, ns := range []string{n.a, n.b} {
			nft(ns, "flush", "chain", "inet", "p2pcut", "in")
		}
	}
}

// call runs a 320x240 test-pattern call from namespace a to b, recorded
// into out, with args on both sides, and waits until video arrives.
func (n *netPair) call(t *testing.T, ctx context.Context, out string, args ...string) (offer, answer *proc) {
	t.Helper()
	return n.callStats(t, ctx, out, "", "", args...)
}

// callStats is call with each side's --stats lines going to a file of its
// own (none for "").
func (n *netPair) callStats(t *testing.T, ctx context.Context, out, offerStats, answerStats string, args ...string) (offer, answer *proc) {
	t.Helper()
	common := append([]string{"--ice-server", "none"}, args...)
	// --width and --height shape what is sent: the offer's alone.
	offerArgs := []string{"offer", "--source", "test", "--width", "320", "--height", "240", "--interface", n.devA}
	if offerStats != "" {
		offerArgs = append(offerArgs, "--stats", offerStats)
	}
	answerArgs := []string{"answer", "-o", out, "--interface", n.devB}
	if answerStats != "" {
		answerArgs = append(answerArgs, "--stats", answerStats)
	}
	offer, answer = call(t, ctx, callSpec{
		offerArgs:  append(offerArgs, common...),
		answerArgs: append(answerArgs, common...),
		offerIn:    n.in(n.a),
		answerIn:   n.in(n.b),
	})
	answer.waitFor(ctx, "receiving 320x240 video")
	return offer, answer
}

// TestShortOutageHeals: an outage between two namespaces, shorter than
// the silence tolerance, heals by itself; both sides say when the path was
// lost and when it came back, and the call goes on to its end, with the
// video sent after the heal received and on file.
func TestShortOutageHeals(t *testing.T) {
	t.Parallel() // it mostly waits out timeouts
	testutil.NeedFFmpeg(t)
	n := newNetPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	out := filepath.Join(dir, "call.webm")
	offerStats, answerStats := filepath.Join(dir, "offer.jsonl"), filepath.Join(dir, "answer.jsonl")
	offer, answer := n.callStats(t, ctx, out, offerStats, answerStats, "--duration", "25s")
	waitCounts(t, ctx, answerStats, "frames received", func(c countLine) bool { return c.FramesRecv > 0 })
	heal := n.cut(t)
	for _, p := range []*proc{offer, answer} {
		p.waitFor(ctx, "connection: lost, waiting for the other side (up to 0:")
	}
	// ICE reports the outage after 5 s; it lasts one more whole second
	// of the receiver's, without video, before it heals.
	lost := lastCounts(t, answerStats).T
	during := waitCounts(t, ctx, answerStats, "a second without video after the loss was reported",
		func(c countLine) bool { return c.T > lost && c.FPSRecv == 0 })
	heal()
	back := regexp.MustCompile(`connection: back after \d+\.\d s\n`)
	for _, p := range []*proc{offer, answer} {
		p.waitFor(ctx, "connection: back after ")
		if !back.MatchString(p.errText()) {
			t.Errorf("%s: no whole 'back after' line:\n%s", p.name, p.errText())
		}
		t.Logf("%s: %s; %s", p.name, firstLine(p.errText(), "connection: lost"), firstLine(p.errText(), "connection: back"))
	}
	waitOK(ctx, offer, answer)
	// Frames sent from the heal on (counted from the sender's line for the
	// second the receiver saw none, so a little before the heal: an upper
	// bound) against frames received after it.
	sent, recv := finalCounts(t, offerStats), finalCounts(t, answerStats)
	sentAfter := sent.FramesSent - countsAt(t, offerStats, during.T).FramesSent
	recvAfter := recv.FramesRecv - during.FramesRecv
	t.Logf("before the outage %d frames received; after the heal %d of about %d sent; %d sent in all", during.FramesRecv, recvAfter, sentAfter, sent.FramesSent)
	if during.FramesRecv == 0 || sentAfter <= 0 || recvAfter < sentAfter*9/10-45 {
		t.Errorf("received %d frames before the outage and %d after the heal, of about %d sent after it; want video on both sides of the outage, and at least 90%% of it (less 1.5 s) after it", during.FramesRecv, recvAfter, sentAfter)
	}
	p := testutil.Probe(t, out)
	testutil.DecodesCleanly(t, out)
	if p.Frames < recv.FramesRecv*95/100 {
		t.Errorf("recording: %+v; want the %d frames received, before and after the outage", p, recv.FramesRecv)
	}
}

// TestLongOutageEndsBothSides: an outage longer than --silence-timeout
// ends the call on both sides with the reason and a finalized recording
// that holds the video received before the outage.
func TestLongOutageEndsBothSides(t *testing.T) {
	t.Parallel() // it mostly waits out timeouts
	testutil.NeedFFmpeg(t)
	n := newNetPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	out := filepath.Join(dir, "call.ivf")
	offerStats, answerStats := filepath.Join(dir, "offer.jsonl"), filepath.Join(dir, "answer.jsonl")
	offer, answer := n.callStats(t, ctx, out, offerStats, answerStats, "--silence-timeout", "8s")
	before := waitCounts(t, ctx, answerStats, "frames received", func(c countLine) bool { return c.FramesRecv > 0 })
	n.cut(t)
	for _, p := range []*proc{offer, answer} {
		if code := p.wait(ctx); code != 1 || !strings.Contains(p.errText(), "p2pcam: no packets from the other side for 8s: its machine or network is gone\n") {
			t.Errorf("%s exited %d; want 1 with the silence line\n%s", p.name, code, p.errText())
		}
	}
	// The sender's count for the second before the cut against what
	// arrived, and what arrived against the file.
	sentBefore := countsAt(t, offerStats, before.T).FramesSent
	recv := finalCounts(t, answerStats)
	t.Logf("sent %d frames by the second before the cut; received %d then, %d in all", sentBefore, before.FramesRecv, recv.FramesRecv)
	if recv.FramesRecv < sentBefore*9/10 {
		t.Errorf("received %d frames of the %d sent by the second before the cut; want 90%%", recv.FramesRecv, sentBefore)
	}
	p := testutil.Probe(t, out)
	testutil.DecodesCleanly(t, out)
	if p.Frames == 0 || p.Frames < recv.FramesRecv*95/100 {
		t.Errorf("recording: %+v; want the %d frames received before the outage", p, recv.FramesRecv)
	}
}

// noPathCall runs a call between the namespaces whose link was cut
// before it started: the blobs are passed at once, the paths are not.
func (n *netPair) noPathCall(t *testing.T, ctx context.Context, args ...string) (offer, answer *proc) {
	t.Helper()
	common := append([]string{"--ice-server", "none", "--connect-timeout", "6s"}, args...)
	return call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--interface", n.devA}, common...),
		answerArgs: append([]string{"answer", "-o", filepath.Join(t.TempDir(), "x.webm"), "--interface", n.devB}, common...),
		offerIn:    n.in(n.a),
		answerIn:   n.in(n.b),
	})
}

// TestNoPathFromTheStart: with no path between the two sides at all, the
// offering side gives up after --connect-timeout; the answering side,
// which cannot tell a blob never pasted from a path that does not exist,
// waits its paste window too and then names both, blaming neither.
func TestNoPathFromTheStart(t *testing.T) {
	t.Parallel() // it mostly waits out timeouts
	n := newNetPair(t)
	n.cut(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := n.noPathCall(t, ctx, "--paste-timeout", "4s")
	for _, p := range []*proc{offer, answer} {
		text := p.errText()
		if code := p.wait(ctx); code != 1 || !strings.Contains(p.errText(), "p2pcam: no connection within") {
			t.Errorf("%s exited %d; want 1 with the connect failure\n%s", p.name, code, text)
		}
	}
	if text := answer.errText(); !strings.Contains(text, "either the answer blob did not reach `p2pcam offer` in time, or the two machines found no network path") {
		t.Errorf("answer does not name both causes:\n%s", text)
	}
	if text := offer.errText(); strings.Contains(text, "paste") && strings.Contains(text, "hint") && !strings.Contains(text, "no network path") {
		t.Errorf("offer blames the paste:\n%s", text)
	}
}

// TestAppliedAnswerEndsTheWindow: with only the path into the offering
// side cut, the offering side's checks still reach the answering side,
// which learns from them that its answer was applied: it drops the rest
// of its paste window, says so, and gives up after --connect-timeout with
// the network hint, not one about pasting.
func TestAppliedAnswerEndsTheWindow(t *testing.T) {
	t.Parallel() // it mostly waits out timeouts
	n := newNetPair(t)
	n.cutInto(t, n.a, n.devA)
	// The context ends long before the 90 s paste window would.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	offer, answer := n.noPathCall(t, ctx, "--paste-timeout", "90s")
	answer.waitFor(ctx, "the other side has the answer and is reaching out; connecting (up to 0:0")
	for _, p := range []*proc{offer, answer} {
		if code := p.wait(ctx); code != 1 || !strings.Contains(p.errText(), "p2pcam: no connection within") {
			t.Errorf("%s exited %d; want 1 with the connect failure\n%s", p.name, code, p.errText())
		}
	}
	t.Logf("answer:\n%s", answer.errText())
	if text := answer.errText(); strings.Contains(text, "did not reach `p2pcam offer`") || !strings.Contains(text, "found no network path") {
		t.Errorf("answer should give the network hint only:\n%s", text)
	}
}
