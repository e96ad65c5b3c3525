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
	common := append([]string{"--ice-server", "none", "--width", "320", "--height", "240"}, args...)
	offer, answer = call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--interface", n.devA}, common...),
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
