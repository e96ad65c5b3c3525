package signal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/vp8"
	"github.com/p2pcam/p2pcam/signal"
)

// sendTracks returns a VP8 and an Opus track to send, as p2pcam's sender
// makes them.
func sendTracks(t *testing.T) []peer.SendTrack {
	t.Helper()
	var out []peer.SendTrack
	for _, c := range []struct {
		d  codec.Descriptor
		id string
	}{{vp8.Descriptor, "video"}, {opus.Descriptor, "audio"}} {
		tr, err := webrtc.NewTrackLocalStaticSample(c.d.Capability(), c.id, "p2pcam")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, peer.SendTrack{Track: tr, Codec: c.d})
	}
	return out
}

// newAVPeer returns a loopback peer that offers or accepts VP8 and Opus,
// sending both when send is set, closed at test end.
func newAVPeer(t *testing.T, send bool) *peer.Peer {
	t.Helper()
	cfg := peer.Config{
		Receive:    []codec.Kind{codec.Video, codec.Audio},
		Codecs:     []codec.Descriptor{vp8.Descriptor, opus.Descriptor},
		Interfaces: []string{"lo"},
	}
	if send {
		cfg.Send = sendTracks(t)
	}
	p, err := peer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// throughBlob encodes sd as a compact blob, checks its version and
// length, and returns what the other side decodes.
func throughBlob(t *testing.T, sd webrtc.SessionDescription) webrtc.SessionDescription {
	t.Helper()
	blob, err := signal.Encode(sd, signal.FormatCompact)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	t.Logf("%s: %d characters", sd.Type, len(blob))
	if !strings.HasPrefix(blob, signal.CompactPrefixV2) {
		t.Errorf("a description with sound was written as %.8s..., want %s", blob, signal.CompactPrefixV2)
	}
	if len(blob) >= 300 {
		t.Errorf("%s blob with sound is %d characters, want under 300", sd.Type, len(blob))
	}
	got, _, err := signal.DecodeAs(blob, sd.Type)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got.Type != sd.Type || got.SDP != sd.SDP {
		t.Fatalf("round trip changed the %s:\n got %q\nwant %q", sd.Type, got.SDP, sd.SDP)
	}
	return got
}

// TestSoundCallThroughBlobs has two pion peers with a VP8 and an Opus
// track each way or one way exchange their descriptions only through
// compact blobs, and connect.
func TestSoundCallThroughBlobs(t *testing.T) {
	tests := []struct {
		name       string
		answerSend bool
	}{
		{"one way", false},
		{"two way", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			offerer, answerer := newAVPeer(t, true), newAVPeer(t, tt.answerSend)
			offer, err := offerer.Offer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			answer, err := answerer.Answer(ctx, throughBlob(t, offer))
			if err != nil {
				t.Fatal(err)
			}
			if answer, err = signal.TagAnswer(answer, offer); err != nil {
				t.Fatal(err)
			}
			got := throughBlob(t, answer)
			if err := signal.CheckAnswer(got, offer); err != nil {
				t.Fatal(err)
			}
			if err := offerer.Accept(got); err != nil {
				t.Fatal(err)
			}
			for _, p := range []*peer.Peer{offerer, answerer} {
				if err := p.WaitConnected(ctx); err != nil {
					t.Fatalf("WaitConnected: %v", err)
				}
			}
		})
	}
}
