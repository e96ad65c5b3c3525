package main

// ICE through NATs, with the real binary: calls between two hosts behind
// NAT routers in network namespaces (internal/nettest, Linux only), with
// our STUN/TURN server on the "public" network.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/nettest"
	"github.com/p2pcam/p2pcam/internal/testutil"
)

func newNetnsLab(t *testing.T, nat nettest.NAT) *nettest.Lab {
	t.Helper()
	l, err := nettest.New(nat)
	if errors.Is(err, nettest.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("tearing the lab down: %v", err)
		}
	})
	return l
}

// TestICEThroughNATs calls from a host behind one NAT to a host behind
// another: STUN is enough between cone NATs, symmetric NATs need a TURN
// relay, and without any server the offer gives up at --connect-timeout
// with advice. Each case builds its own lab, so they run in parallel.
func TestICEThroughNATs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a network of namespaces per case and waits for a timeout")
	}
	testutil.NeedFFmpeg(t)
	t.Parallel()
	const user, pass = "p2pcam", "secret"
	server := fmt.Sprintf("%s:%d", nettest.ServerIP, nettest.ServerPort)
	tests := []struct {
		name     string
		nat      nettest.NAT
		ice      string // --ice-server for both sides
		wantPair string // "" when no call can connect
	}{
		{"cone NATs with STUN connect server-reflexive", nettest.Cone, "stun:" + server, "srflx/udp"},
		{"symmetric NATs with TURN connect through the relay", nettest.Symmetric, "turn:" + user + ":" + pass + "@" + server, "relay/udp"},
		{"cone NATs without servers give up with advice", nettest.Cone, "none", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newNetnsLab(t, tc.nat)
			var turn *nettest.TURNServer
			if tc.ice != "none" {
				var err error
				if turn, err = l.StartTURN(user, pass); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			recording := filepath.Join(t.TempDir(), "nat.webm")
			offerArgs := []string{"offer", "--source", "test", "--width", "320", "--height", "240",
				"--duration", "2s", "--ice-server", tc.ice}
			answerArgs := []string{"answer", "-o", recording, "--ice-server", tc.ice}
			if tc.wantPair == "" {
				// The answer cannot tell an unused answer from a missing
				// path; keep its wait short so that it ends too.
				offerArgs = append(offerArgs, "--connect-timeout", "8s")
				answerArgs = append(answerArgs, "--connect-timeout", "8s", "--paste-timeout", "4s")
			}
			var pasted time.Time
			offer, answer := call(t, ctx, callSpec{
				offerArgs: offerArgs, answerArgs: answerArgs,
				offerIn:         func(argv []string) []string { return l.Argv(nettest.HostA, argv...) },
				answerIn:        func(argv []string) []string { return l.Argv(nettest.HostB, argv...) },
				beforePasteBack: func(_, _ *proc, _ string) { pasted = time.Now() },
			})

			if tc.wantPair == "" {
				if code := offer.wait(ctx); code != 1 {
					t.Fatalf("offer exited %d; want 1", code)
				}
				t.Logf("offer gave up %s after the answer was pasted", time.Since(pasted).Round(100*time.Millisecond))
				for _, want := range []string{
					"p2pcam: no connection within 8s\n",
					"p2pcam: hint: the two machines found no network path to each other\n",
					"p2pcam: hint: on different networks, both sides need a STUN server",
				} {
					if !strings.Contains(offer.errText(), want) {
						t.Errorf("offer's stderr lacks %q:\n%s", want, offer.errText())
					}
				}
				if code := answer.wait(ctx); code != 1 || !strings.Contains(answer.errText(), "p2pcam: no connection within 12s") {
					t.Errorf("answer exited %d; want 1 and no connection within 12s:\n%s", code, answer.errText())
				}
				t.Logf("answer: %s", strings.Join(errorLine.FindAllString(answer.errText(), -1), "\n"))
				return
			}

			_, ol := waitConnected(ctx, offer)
			elapsed := time.Since(pasted)
			_, al := waitConnected(ctx, answer)
			t.Logf("offer %s, %s after the answer was pasted; answer %s", ol, elapsed.Round(10*time.Millisecond), al)
			waitOK(ctx, offer, answer)
			for _, p := range []*proc{offer, answer} {
				if got, _ := pairKind(p); got != tc.wantPair {
					t.Errorf("%s connected over %q; want %s", p.name, got, tc.wantPair)
				}
			}
			if tc.wantPair == "relay/udp" && turn.Allocations() == 0 {
				t.Errorf("a relayed call made no TURN allocation")
			}
			judgeRecording(t, recording)
		})
	}
}
