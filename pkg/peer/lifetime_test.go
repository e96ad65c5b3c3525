package peer

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// newIdlePeer builds a peer that never negotiates, so pion itself reports
// no state changes while the test drives onState and onTrack.
func newIdlePeer(t *testing.T, cfg Config) *Peer {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// cycle is the i'th state of a repeating sequence of states that neither
// connect nor fail the peer.
func cycle(i int) webrtc.PeerConnectionState {
	seq := []webrtc.PeerConnectionState{
		webrtc.PeerConnectionStateNew,
		webrtc.PeerConnectionStateConnecting,
		webrtc.PeerConnectionStateDisconnected,
	}
	return seq[i%len(seq)]
}

// TestStatesKeepsTheNewest: with nobody reading, States holds the most
// recent changes, oldest first, and never drops the latest.
func TestStatesKeepsTheNewest(t *testing.T) {
	p := newIdlePeer(t, Config{Receive: videoKinds(), Codecs: vp8Codecs()})
	size := cap(p.states)
	tests := []struct {
		name string
		n    int
	}{
		{"one", 1},
		{"a full buffer", size},
		{"one more than the buffer", size + 1},
		{"many more than the buffer", 3*size + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent []webrtc.PeerConnectionState
			for i := range tt.n {
				sent = append(sent, cycle(i))
				p.onState(cycle(i))
			}
			var got []webrtc.PeerConnectionState
			for len(p.states) > 0 {
				got = append(got, <-p.states)
			}
			want := sent[max(0, len(sent)-size):]
			if !slices.Equal(got, want) {
				t.Fatalf("States held %v; want the newest %d of %v", got, len(want), sent)
			}
		})
	}
}

// TestStatesLatestReachesAConcurrentReader: while a reader drains States
// as pion's callbacks fill it, the last change always arrives, and the
// callbacks never block.
func TestStatesLatestReachesAConcurrentReader(t *testing.T) {
	p := newIdlePeer(t, Config{Receive: videoKinds(), Codecs: vp8Codecs()})
	const last = webrtc.PeerConnectionStateClosed
	seen := make(chan struct{})
	go func() {
		for s := range p.states {
			if s == last {
				close(seen)
				return
			}
		}
	}()
	sent := make(chan struct{})
	go func() {
		for i := range 20 * cap(p.states) {
			p.onState(cycle(i))
		}
		p.onState(last)
		close(sent)
	}()
	deadline := time.After(10 * time.Second)
	for _, c := range []chan struct{}{sent, seen} {
		select {
		case <-c:
		case <-deadline:
			t.Fatal("the latest state never reached the reader, or onState blocked")
		}
	}
}

// TestTrackAfterCloseStartsNothing: a remote track pion reports once
// Close has begun starts no RTCP reader (Close may already be waiting for
// them) and is not handed to Tracks; Close stays idempotent.
func TestTrackAfterCloseStartsNothing(t *testing.T) {
	p := newIdlePeer(t, Config{Receive: videoKinds(), Codecs: vp8Codecs()})
	first := p.Close()
	// A zero RTPReceiver's Read blocks for ever: a reader started for it
	// would never end.
	p.onTrack(&webrtc.TrackRemote{}, &webrtc.RTPReceiver{})
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("onTrack after Close started a goroutine the closed peer does not wait for")
	}
	select {
	case tr := <-p.Tracks():
		t.Fatalf("a track that arrived after Close was delivered: %v", tr)
	default:
	}
	p.mu.Lock()
	n := len(p.remoteSSR)
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d remote SSRCs noted after Close; want none", n)
	}
	if again := p.Close(); again != first {
		t.Fatalf("second Close = %v; want the first's %v", again, first)
	}
}

// TestWaitConnectedEndsWithClose: a WaitConnected that began before Close
// (with no deadline of its own) returns ErrClosed once Close begins, and
// one that begins after it returns at once.
func TestWaitConnectedEndsWithClose(t *testing.T) {
	p := newIdlePeer(t, Config{Receive: videoKinds(), Codecs: vp8Codecs()})
	waited := make(chan error, 1)
	go func() { waited <- p.WaitConnected(t.Context()) }()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("WaitConnected = %v; want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitConnected still waits 5 s after Close")
	}
	if err := p.WaitConnected(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitConnected after Close = %v; want ErrClosed", err)
	}
}
