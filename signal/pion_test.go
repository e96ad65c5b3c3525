package signal

import (
	"context"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// newAPI returns a pion API configured as p2pcam's peer is: VP8 as PT 96
// with NACK, PLI, FIR, REMB and TWCC feedback, the TWCC header extension,
// and ICE gathering on loopback only.
func newAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"},
		{Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
	}
	err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	err = m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{
		URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
	}, webrtc.RTPCodecTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(ir))
}

// newPC returns a PeerConnection with one video transceiver of direction
// dir (a track is attached when it sends), closed at test end.
func newPC(t *testing.T, api *webrtc.API, dir webrtc.RTPTransceiverDirection) *webrtc.PeerConnection {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if dir == webrtc.RTPTransceiverDirectionRecvonly {
		_, err = pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: dir})
	} else {
		var track *webrtc.TrackLocalStaticSample
		track, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "p2pcam")
		if err != nil {
			t.Fatal(err)
		}
		_, err = pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: dir})
	}
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// deadline returns a context that ends with the test or after d.
func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// gathered sets desc as pc's local description and returns it once ICE
// gathering is complete, candidates included.
func gathered(ctx context.Context, t *testing.T, pc *webrtc.PeerConnection, desc webrtc.SessionDescription) webrtc.SessionDescription {
	t.Helper()
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("ICE gathering did not complete")
	}
	return *pc.LocalDescription()
}

// pionOffer returns a gathered offer from a new PeerConnection.
func pionOffer(ctx context.Context, t *testing.T, api *webrtc.API, dir webrtc.RTPTransceiverDirection) (*webrtc.PeerConnection, webrtc.SessionDescription) {
	t.Helper()
	pc := newPC(t, api, dir)
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pc, gathered(ctx, t, pc, offer)
}

// pionAnswer applies offer to a new PeerConnection and returns its
// gathered answer.
func pionAnswer(ctx context.Context, t *testing.T, api *webrtc.API, dir webrtc.RTPTransceiverDirection, offer webrtc.SessionDescription) (*webrtc.PeerConnection, webrtc.SessionDescription) {
	t.Helper()
	pc := newPC(t, api, dir)
	if err := pc.SetRemoteDescription(offer); err != nil {
		t.Fatalf("answerer SetRemoteDescription: %v", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatalf("answerer CreateAnswer: %v", err)
	}
	return pc, gathered(ctx, t, pc, answer)
}
