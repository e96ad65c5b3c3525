//go:build cgo

package session

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// offerOf runs an offering session with cfg until its offer is out, and
// returns the offer.
func offerOf(t *testing.T, cfg Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := newLink()
	cfg.Offer = l
	c := start(ctx, cfg)
	var offer webrtc.SessionDescription
	select {
	case offer = <-l.offers:
	case <-ctx.Done():
		t.Fatal("no offer")
	}
	cancel()
	_ = c.wait(t)
	return offer.SDP
}

// perSession matches the SDP lines that differ from one session to the
// next: origin, ICE credentials, fingerprint, candidates, SSRCs and
// stream IDs.
var perSession = regexp.MustCompile(`(?m)^(o=|a=ice-ufrag|a=ice-pwd|a=fingerprint|a=candidate|a=ssrc|a=msid).*\r?\n`)

// TestOffersWithoutSoundAreUnchanged: with Opus in the codec table, a call
// that sends no sound offers exactly what a call offered when p2pcam knew
// only VP8 (so its blob stays as short), and a call with sound adds an
// audio section as browsers offer it.
func TestOffersWithoutSoundAreUnchanged(t *testing.T) {
	video := Config{Source: capture.Source{Kind: capture.Test}, Width: 64, Height: 48}
	vp8Only := video
	vp8Only.Codecs = []codec.Descriptor{vp8.Descriptor}
	withNone := video
	withNone.Audio = capture.AudioSource{Kind: capture.AudioNone}
	// --audio auto on a machine without a sound server sends no sound.
	t.Setenv("PULSE_SERVER", "unix:"+t.TempDir()+"/none")
	auto := video
	auto.Audio = capture.AudioSource{Kind: capture.AudioAuto}
	before := perSession.ReplaceAllString(offerOf(t, vp8Only), "")
	for _, tt := range []struct {
		name string
		cfg  Config
	}{{"the default codecs", video}, {"--audio none", withNone}, {"--audio auto without a sound server", auto}} {
		got := perSession.ReplaceAllString(offerOf(t, tt.cfg), "")
		if got != before {
			t.Errorf("%s: offer\n%s\nwant, as with VP8 alone,\n%s", tt.name, got, before)
		}
	}
	sound := video
	sound.Audio = capture.AudioSource{Kind: capture.AudioTest}
	got := offerOf(t, sound)
	for _, want := range []string{"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "a=rtpmap:111 opus/48000/2\r\n",
		"a=fmtp:111 minptime=10;useinbandfec=1\r\n", "a=rtcp-fb:111 transport-cc\r\n", "a=sendonly\r\n"} {
		if !strings.Contains(got[strings.Index(got, "m=audio"):], want) {
			t.Errorf("offer with sound lacks %q in its audio section:\n%s", strings.TrimSpace(want), got)
		}
	}
}

// TestSessionSendsSound: a session with --audio test sends an Opus track
// beside its video, both in one stream, and says no microphone was
// opened; the other side gets both tracks.
func TestSessionSendsSound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l := newLink()
	o := start(ctx, Config{Offer: l, Source: capture.Source{Kind: capture.Test}, Width: 64, Height: 48,
		Audio: capture.AudioSource{Kind: capture.AudioTest}, Duration: 3 * time.Second})
	rcv, err := peer.New(peer.Config{Receive: []codec.Kind{codec.Video, codec.Audio}, Codecs: codecs.All(), Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	select {
	case offer := <-l.offers:
		answer, err := rcv.Answer(ctx, offer)
		if err != nil {
			t.Fatal(err)
		}
		l.answers <- answer
	case <-ctx.Done():
		t.Fatal("no offer")
	}
	got := map[codec.Kind]peer.RemoteTrack{}
	for len(got) < 2 {
		select {
		case rt := <-rcv.Tracks():
			got[rt.Kind()] = rt
		case <-ctx.Done():
			t.Fatalf("got tracks %v, want video and audio", got)
		}
	}
	a, v := got[codec.Audio], got[codec.Video]
	if a.Err != nil || !a.Codec.Is(opus.Descriptor.MimeType) || v.Err != nil || !v.Codec.Is(vp8.Descriptor.MimeType) {
		t.Errorf("audio in %q (%v), video in %q (%v); want Opus and VP8", a.Codec.MimeType, a.Err, v.Codec.MimeType, v.Err)
	}
	if a.Track.StreamID() != v.Track.StreamID() {
		t.Errorf("audio in stream %q, video in %q: want one stream, for lip sync", a.Track.StreamID(), v.Track.StreamID())
	}
	pkt, _, err := a.Track.ReadRTP()
	if err != nil || len(pkt.Payload) == 0 {
		t.Fatalf("read audio: %v", err)
	}
	if err := o.wait(t); err != nil {
		t.Fatalf("offer: %v\n%s", err, o.ev)
	}
	if _, ok := find[MicrophoneOpened](o.ev); ok {
		t.Errorf("the test beep reported as a microphone:\n%s", o.ev)
	}
}

// TestTwoWaySound: both sides send sound (answer --source test --audio
// test to an offer that sends sound and records): the audio section is
// answered sendrecv, and both calls end cleanly.
func TestTwoWaySound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	lo, la := newLink(), newLink()
	answers := make(chan webrtc.SessionDescription, 1)
	go func() { // carries the descriptions across, keeping the answer
		select {
		case offer := <-lo.offers:
			la.offers <- offer
		case <-ctx.Done():
			return
		}
		select {
		case answer := <-la.answers:
			answers <- answer
			lo.answers <- answer
		case <-ctx.Done():
		}
	}()
	both := Config{Source: capture.Source{Kind: capture.Test}, Width: 64, Height: 48,
		Audio: capture.AudioSource{Kind: capture.AudioTest}, Duration: 2 * time.Second}
	oc, ac := both, both
	oc.Offer, oc.Output = lo, dir+"/offer.webm"
	ac.Answer, ac.Output = la, dir+"/answer.webm"
	o, a := start(ctx, oc), start(ctx, ac)
	for _, c := range []*call{o, a} {
		if err := c.wait(t); err != nil {
			t.Fatalf("%v\n%s", err, c.ev)
		}
	}
	answer := <-answers
	i := strings.Index(answer.SDP, "m=audio")
	if i < 0 || !strings.Contains(answer.SDP[i:], "a=sendrecv\r\n") {
		t.Errorf("answer does not send and receive sound:\n%s", answer.SDP)
	}
	for _, c := range []*call{o, a} {
		if c.res.FramesRecv == 0 {
			t.Errorf("no video recorded:\n%s", c.ev)
		}
	}
}

// TestSoundAtAnotherClockRateIsLeftOut: an offer whose Opus runs at a
// clock rate other than RFC 7587's 48 kHz (opus/16000/1) cannot be taken:
// the answering side says so once (SoundRefused) and the call goes on
// with video, whether or not it meant to send sound too.
func TestSoundAtAnotherClockRateIsLeftOut(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answerSays capture.AudioSource
	}{
		{"answer receives only", capture.AudioSource{}},
		{"answer sends sound too", capture.AudioSource{Kind: capture.AudioTest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dir := t.TempDir()
			l := newLink()
			l.mangle = func(sd *webrtc.SessionDescription) {
				sd.SDP = strings.ReplaceAll(sd.SDP, "opus/48000/2", "opus/16000/1")
			}
			o := start(ctx, Config{Offer: l, Source: capture.Source{Kind: capture.Test}, Width: 64, Height: 48,
				Audio: capture.AudioSource{Kind: capture.AudioTest}, Duration: 2 * time.Second})
			a := start(ctx, Config{Answer: l, Output: dir + "/answer.webm", Audio: tc.answerSays})
			for _, c := range []*call{o, a} {
				if err := c.wait(t); err != nil {
					t.Fatalf("%v\n%s", err, c.ev)
				}
			}
			if r, ok := find[SoundRefused](a.ev); !ok || r.Codec != "opus/16000/1" {
				t.Errorf("answer: %+v, %v; want SoundRefused of opus/16000/1\n%s", r, ok, a.ev)
			}
			if a.res.FramesRecv == 0 {
				t.Errorf("no video recorded:\n%s", a.ev)
			}
		})
	}
}
