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
	common := append([]string{"--ice-server", "none"}, args...)
	offer, answer = call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--interface", n.devA}, common...),
		answerArgs: append([]string{"answer", "-o", out, "--interface", n.devB}, common...),
		offerIn:    n.in(n.a),
		answerIn:   n.in(n.b),
	})
	answer.waitFor(ctx, "receiving 320x240 video")
	return offer, answer
}

// TestShortOutageHeals: an 8 s outage between two namespaces, shorter than
// the silence tolerance, heals by itself; both sides say when the path was
// lost and when it came back, and the call goes on to its end.
func TestShortOutageHeals(t *testing.T) {
	t.Parallel() // it mostly waits out timeouts
	testutil.NeedFFmpeg(t)
	n := newNetPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), "call.webm")
	offer, answer := n.call(t, ctx, out, "--duration", "25s")
	heal := n.cut(t)
	for _, p := range []*proc{offer, answer} {
		p.waitFor(ctx, "connection: lost, waiting for the other side (up to 0:")
	}
	time.Sleep(3 * time.Second) // an 8 s outage: ICE reports it after 5 s
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
	p := testutil.Probe(t, out)
	testutil.DecodesCleanly(t, out)
	if p.Frames < 300 {
		t.Errorf("recording: %+v; want the call before and after the outage", p)
	}
}

// TestLongOutageEndsBothSides: an outage longer than --silence-timeout
// ends the call on both sides with the reason and a finalized recording.
func TestLongOutageEndsBothSides(t *testing.T) {
	t.Parallel() // it mostly waits out timeouts
	testutil.NeedFFmpeg(t)
	n := newNetPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), "call.ivf")
	offer, answer := n.call(t, ctx, out, "--silence-timeout", "8s")
	time.Sleep(time.Second) // some video on file
	n.cut(t)
	for _, p := range []*proc{offer, answer} {
		if code := p.wait(ctx); code != 1 || !strings.Contains(p.errText(), "p2pcam: no packets from the other side for 8s: its machine or network is gone\n") {
			t.Errorf("%s exited %d; want 1 with the silence line\n%s", p.name, code, p.errText())
		}
	}
	p := testutil.Probe(t, out)
	testutil.DecodesCleanly(t, out)
	if p.Frames < 30 {
		t.Errorf("recording: %+v; want the second before the outage", p)
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
