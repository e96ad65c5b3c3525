package mediamtx_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/p2pcam/p2pcam/internal/mediamtx"
	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/signal/whip"
)

var (
	publisher = mediamtx.User{Name: "pub", Pass: "pub-pass"}
	reader    = mediamtx.User{Name: "view", Pass: "view-pass"}
)

// TestPublishAndPlay publishes VP8 through WHIP into mediamtx and plays it
// back through WHEP, both with plain pion and whip.Client, then ends both
// sessions with DELETE and checks what a killed server does to Close.
func TestPublishAndPlay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mediamtx")
	}
	srv := mediamtx.Start(t, mediamtx.Options{
		Publisher:  &publisher,
		Reader:     &reader,
		ICEServers: []mediamtx.ICEServer{{URL: "stun:127.0.0.1:3478"}},
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	frames := testutil.ReadIVF(t, "../../testdata/testsrc-64x48-5f.ivf")

	// Publisher: one VP8 track, the IVF frames looped at 10 fps.
	pub := newPeer(t)
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "p2pcam")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pub.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	go drainRTCP(sender)
	pubClient := &whip.Client{Endpoint: srv.WHIPURL("cam"), Token: publisher.Token()}
	answer, err := pubClient.Post(ctx, gatheredOffer(t, pub))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	wantICE := []webrtc.ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}}}
	if !reflect.DeepEqual(answer.ICEServers, wantICE) {
		t.Errorf("ICE servers from the Link headers = %#v, want %#v", answer.ICEServers, wantICE)
	}
	// Before an offer exists (what p2pcam asks when given no --ice-server).
	pre := &whip.Client{Endpoint: srv.WHIPURL("cam"), Token: publisher.Token()}
	if got, err := pre.ICEServers(ctx); err != nil || !reflect.DeepEqual(got, wantICE) {
		t.Errorf("ICE servers from OPTIONS = %#v, %v; want %#v", got, err, wantICE)
	}
	if err := pub.SetRemoteDescription(answer.SDP); err != nil {
		t.Fatal(err)
	}
	var sending sync.WaitGroup
	sendCtx, stopSending := context.WithCancel(ctx)
	sending.Go(func() { sendLoop(sendCtx, t, track, frames) })
	defer func() { stopSending(); sending.Wait() }()

	// Reader: receive-only, offered once and posted until the stream exists.
	play := newPeer(t)
	if _, err := play.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	packets := make(chan string, 64)
	play.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go func() {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				select {
				case packets <- tr.Codec().MimeType:
				default:
				}
			}
		}()
	})
	playClient := &whip.Client{Endpoint: srv.WHEPURL("cam"), Token: reader.Token()}
	offer := gatheredOffer(t, play)
	var playAnswer webrtc.SessionDescription
	retry := time.NewTicker(200 * time.Millisecond)
	defer retry.Stop()
	for {
		playAnswer, err = playClient.Exchange(ctx, offer)
		if !errors.Is(err, whip.ErrNotFound) {
			break
		}
		select { // the publisher's tracks are not ready yet
		case <-retry.C:
		case <-ctx.Done():
			t.Fatalf("play: still %v when the deadline passed", err)
		}
	}
	if err != nil {
		t.Fatalf("play: %v", err)
	}
	if err := play.SetRemoteDescription(playAnswer); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 20; n++ {
		select {
		case mime := <-packets:
			if mime != webrtc.MimeTypeVP8 {
				t.Fatalf("received %s, want %s", mime, webrtc.MimeTypeVP8)
			}
		case <-ctx.Done():
			t.Fatalf("received %d RTP packets through mediamtx, want 20", n)
		}
	}

	if err := playClient.Close(ctx); err != nil {
		t.Errorf("end the play session: %v", err)
	}
	srv.Kill()
	err = pubClient.Close(ctx)
	t.Logf("Close after the server was killed: %v", err)
	if !errors.Is(err, whip.ErrUnreachable) {
		t.Errorf("Close after the server was killed = %v, want ErrUnreachable", err)
	}
}

// TestAuthErrors checks mediamtx's answers to wrong and missing
// credentials, and to playing a stream nobody publishes.
func TestAuthErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mediamtx")
	}
	srv := mediamtx.Start(t, mediamtx.Options{Publisher: &publisher, Reader: &reader})
	offer := gatheredOffer(t, newPeerWithVideo(t))
	tests := []struct {
		name     string
		endpoint string
		token    string
		want     error
	}{
		{"wrong token", srv.WHIPURL("cam"), "pub:wrong", whip.ErrUnauthorized},
		{"token without a colon", srv.WHIPURL("cam"), "pub-pass", whip.ErrUnauthorized},
		{"no token", srv.WHIPURL("cam"), "", whip.ErrUnauthorized},
		{"reader token cannot publish", srv.WHIPURL("cam"), reader.Token(), whip.ErrUnauthorized},
		{"nothing to play", srv.WHEPURL("nothing"), reader.Token(), whip.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // mediamtx pauses up to 4 s before refusing credentials
			c := &whip.Client{Endpoint: tt.endpoint, Token: tt.token}
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			_, err := c.Exchange(ctx, offer)
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Exchange = %v, want %v", err, tt.want)
			}
			if tt.token != "" && bytes.Contains([]byte(err.Error()), []byte(tt.token)) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

// newPeer returns a PeerConnection that gathers host candidates on
// loopback only, closed when the test ends.
func newPeer(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	var me webrtc.MediaEngine
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var ir interceptor.Registry
	if err := webrtc.RegisterDefaultInterceptors(&me, &ir); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me), webrtc.WithInterceptorRegistry(&ir)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

func newPeerWithVideo(t *testing.T) *webrtc.PeerConnection {
	pc := newPeer(t)
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "p2pcam")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	return pc
}

// gatheredOffer creates an offer, sets it and waits for ICE gathering to
// complete: WHIP sends every candidate in the offer.
func gatheredOffer(t *testing.T, pc *webrtc.PeerConnection) webrtc.SessionDescription {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("ICE gathering did not complete")
	}
	return *pc.LocalDescription()
}

// sendLoop writes frames, looped, at 10 fps until ctx is done.
func sendLoop(ctx context.Context, t *testing.T, track *webrtc.TrackLocalStaticSample, frames [][]byte) {
	const interval = 100 * time.Millisecond
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		if err := track.WriteSample(media.Sample{Data: frames[i%len(frames)], Duration: interval}); err != nil {
			t.Errorf("write sample: %v", err)
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// drainRTCP keeps reading the sender's RTCP, as pion needs.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}
