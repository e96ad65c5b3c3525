package peer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// loopback keeps test traffic on lo.
var loopback = []string{"lo"}

// pair builds a sending and a receiving peer and connects them through a
// real offer/answer exchange over loopback sockets.
func pair(t *testing.T, ctx context.Context) (snd, rcv *Peer, track *webrtc.TrackLocalStaticSample) {
	t.Helper()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "p2pcam")
	if err != nil {
		t.Fatal(err)
	}
	snd, err = New(Config{Send: []SendTrack{{Track: track, Codec: vp8.Descriptor}}, Interfaces: loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snd.Close() })
	rcv, err = New(Config{Receive: videoKinds(), Codecs: vp8Codecs(), Interfaces: loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })

	offer, err := snd.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := rcv.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Accept(answer); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Peer{snd, rcv} {
		if err := p.WaitConnected(ctx); err != nil {
			t.Fatalf("WaitConnected: %v", err)
		}
	}
	return snd, rcv, track
}

// feed writes fake VP8 samples until ctx ends.
func feed(ctx context.Context, track *webrtc.TrackLocalStaticSample) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 3000)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = track.WriteSample(media.Sample{Data: payload, Duration: 10 * time.Millisecond})
		}
	}
}

func TestConnectOverLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snd, rcv, track := pair(t, ctx)
	go feed(ctx, track)

	for _, p := range []*Peer{snd, rcv} {
		pr, ok := p.SelectedPair()
		if !ok {
			t.Fatal("no selected pair after connecting")
		}
		if pr.Kind() != "host/udp" || pr.Local.Address != "127.0.0.1" {
			t.Errorf("pair = %s; want host/udp on 127.0.0.1", pr)
		}
	}

	var remote *webrtc.TrackRemote
	select {
	case rt := <-rcv.Tracks():
		remote = rt.Track
	case <-ctx.Done():
		t.Fatal("no remote track")
	}
	if remote.Codec().MimeType != webrtc.MimeTypeVP8 {
		t.Fatalf("codec = %s", remote.Codec().MimeType)
	}
	if _, _, err := remote.ReadRTP(); err != nil {
		t.Fatalf("ReadRTP: %v", err)
	}
	if len(snd.SenderSSRCs()) != 1 || snd.SenderSSRCs()[0] != uint32(remote.SSRC()) {
		t.Fatalf("SenderSSRCs = %v, remote track SSRC = %d", snd.SenderSSRCs(), remote.SSRC())
	}
}

func TestKeyFrameRequestReachesSender(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snd, rcv, track := pair(t, ctx)
	go feed(ctx, track)
	remote := (<-rcv.Tracks()).Track
	go func() {
		for {
			if _, _, err := remote.ReadRTP(); err != nil {
				return
			}
		}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for snd.Feedback().PLIs == 0 {
		if err := rcv.RequestKeyFrame(uint32(remote.SSRC())); err != nil {
			t.Fatal(err)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("the sender never saw a PLI")
		}
	}
}

func TestCloseSaysGoodbye(t *testing.T) {
	tests := []struct {
		name     string
		hangUpBy string
		reason   string // "" calls Close
		want     string // what the other side's HangUpReason says
	}{
		{"sender hangs up", "sender", "", DefaultHangUpReason},
		{"receiver hangs up", "receiver", "", DefaultHangUpReason},
		{"receiver says why", "receiver", "recording-failed: no space left on device", "recording-failed: no space left on device"},
		{"sender says why", "sender", "interrupted", "interrupted"},
		{"a long reason is cut to 255 bytes", "sender", strings.Repeat("x", 300), strings.Repeat("x", 255)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			snd, rcv, track := pair(t, ctx)
			go feed(ctx, track)
			remote := (<-rcv.Tracks()).Track
			go func() {
				for {
					if _, _, err := remote.ReadRTP(); err != nil {
						return
					}
				}
			}()
			closer, other := snd, rcv
			if tc.hangUpBy == "receiver" {
				closer, other = rcv, snd
			}
			if got := other.HangUpReason(); got != "" {
				t.Fatalf("HangUpReason before the hang-up = %q; want \"\"", got)
			}
			close := closer.Close
			if tc.reason != "" {
				close = func() error { return closer.CloseWith(tc.reason) }
			}
			if err := close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := closer.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			select {
			case <-other.HungUp():
			case <-ctx.Done():
				t.Fatal("the other side never saw the goodbye")
			}
			if got := other.HangUpReason(); got != tc.want {
				t.Errorf("HangUpReason = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestNoCommonNetworkFails(t *testing.T) {
	// An answer whose candidates point nowhere: ICE must fail, not hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	track, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "p2pcam")
	snd, err := New(Config{Send: []SendTrack{{Track: track, Codec: vp8.Descriptor}}, Interfaces: loopback, ICEFailedTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	// The receiver gathers nothing: its interface filter matches none.
	rcv, err := New(Config{Receive: videoKinds(), Codecs: vp8Codecs(), Interfaces: []string{"no-such-interface"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	offer, err := snd.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := rcv.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Accept(answer); err != nil {
		t.Fatal(err)
	}
	if err := snd.WaitConnected(ctx); err != ErrICEFailed {
		t.Fatalf("WaitConnected = %v; want ErrICEFailed", err)
	}
}
