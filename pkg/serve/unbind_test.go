package serve

import (
	"fmt"
	"runtime"
	"testing"
	"weak"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// binding is a TrackLocalContext as a PeerConnection's sender gives one
// to its track: here writing into a sink.
type binding struct {
	id string
	w  webrtc.TrackLocalWriter
}

func (b binding) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}}
}
func (b binding) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (b binding) SSRC() webrtc.SSRC                                      { return 1 }
func (b binding) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (b binding) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (b binding) WriteStream() webrtc.TrackLocalWriter                   { return b.w }
func (b binding) ID() string                                             { return b.id }
func (b binding) RTCPReader() interceptor.RTCPReader                     { return nil }

// sink stands for a viewer's PeerConnection: what a binding writes into
// (its size makes it a heap object of its own, as a peer is).
type sink struct{ _ [64 << 10]byte }

func (s *sink) WriteRTP(*rtp.Header, []byte) (int, error) { return 0, nil }
func (s *sink) Write(b []byte) (int, error)               { return len(b), nil }

type passFilter struct{}

func (passFilter) Filter(p []byte, _ int) ([]byte, bool) { return p, true }

// TestUnboundViewerIsNotKept: once the shared track is unbound from a
// viewer that left, nothing of that viewer stays reachable from the
// shared track. pion's Unbind moves the last binding into the gap without
// clearing the old last slot, so the slice's spare capacity keeps copies
// of removed bindings; without the thin writer letting go of the viewer's
// writer and layer on Unbind, those copies held up to as many gone
// viewers (each a whole PeerConnection) as ever watched at once.
func TestUnboundViewerIsNotKept(t *testing.T) {
	shared, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "cam")
	if err != nil {
		t.Fatal(err)
	}
	l := &codec.Layering{NewFilter: func() codec.LayerFilter { return passFilter{} }}
	const n = 3
	var sinks []weak.Pointer[sink]
	var viewers []weak.Pointer[viewer]
	func() {
		var tracks []*thinTrack
		var ctxs []binding
		for i := range n {
			v, s := &viewer{}, &sink{}
			sinks, viewers = append(sinks, weak.Make(s)), append(viewers, weak.Make(v))
			tr := newThinTrack(shared, l, &v.layer)
			ctx := binding{id: fmt.Sprint("viewer", i), w: s}
			if _, err := tr.Bind(ctx); err != nil {
				t.Fatal(err)
			}
			tracks, ctxs = append(tracks, tr), append(ctxs, ctx)
		}
		if err := shared.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}, Payload: []byte{0x10, 0, 0x9d, 0x01, 0x2a}}); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := tracks[i].Unbind(ctxs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}()
	runtime.GC()
	runtime.GC()
	for i := range n {
		if sinks[i].Value() != nil || viewers[i].Value() != nil {
			t.Errorf("viewer %d (unbound) is still reachable from the shared track", i)
		}
	}
	runtime.KeepAlive(shared)
}
