//go:build cgo && !nosdl

package view

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/pcm"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// answerWith answers one offer with the answer makeAnswer gives: the
// offering side is a plain peer in the test.
type answerWith struct {
	offer   webrtc.SessionDescription
	answers chan webrtc.SessionDescription
}

func (a *answerWith) ExchangeAnswer(ctx context.Context, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) error {
	answer, err := makeAnswer(ctx, a.offer)
	if err != nil {
		return err
	}
	a.answers <- answer
	return nil
}

func (a *answerWith) AnswerWindow() time.Duration { return 0 }

// TestCallSoundReachesTheSpeaker: a plain pion peer sends an Opus track
// of the test beep to a session whose viewer is a window; the beep comes
// out of the speaker, once a second.
func TestCallSoundReachesTheSpeaker(t *testing.T) {
	startPulse(t)
	_, s := onScreen(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mon := record(t)

	d := opus.Descriptor
	tl, err := webrtc.NewTrackLocalStaticSample(d.Capability(), "audio", "beep",
		webrtc.WithPayloader(func(webrtc.RTPCodecCapability) (rtp.Payloader, error) { return d.NewPayloader(), nil }))
	if err != nil {
		t.Fatal(err)
	}
	snd, err := peer.New(peer.Config{Send: []peer.SendTrack{{Track: tl, Codec: d}}, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	offer, err := snd.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sig := &answerWith{offer: offer, answers: make(chan webrtc.SessionDescription, 1)}
	ran := make(chan error, 1)
	go func() {
		_, err := session.Run(ctx, session.Config{
			Answer: sig, Codecs: []codec.Descriptor{d},
			View: func(session.ViewCall) (session.Viewer, error) { return s.Open(Options{Title: "call"}) },
		}, slog.New(slog.DiscardHandler))
		ran <- err
	}()
	select {
	case answer := <-sig.answers:
		if err := snd.Accept(answer); err != nil {
			t.Fatal(err)
		}
	case err := <-ran:
		t.Fatalf("the session ended before answering: %v", err)
	}
	if err := snd.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	enc, err := opus.NewEncoder(opus.NewParams())
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	src := pcm.NewBeep(time.Now())
	frame := make([]int16, opus.FrameSamples)
	var heard []beep
	for n := 0; len(heard) < 4; n++ {
		if ctx.Err() != nil {
			t.Fatalf("heard %d beeps in time; want 4", len(heard))
		}
		time.Sleep(time.Until(src.Time(int64(n+1) * opus.FrameSamples)))
		if _, err := src.Read(frame); err != nil {
			t.Fatal(err)
		}
		pkt, err := enc.Encode(frame)
		if err != nil {
			t.Fatal(err)
		}
		if err := tl.WriteSample(media.Sample{Data: pkt, Duration: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if n%25 == 0 {
			samples, first := mon.snapshot()
			heard = beeps(samples, first)
		}
	}
	if err := snd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err != nil {
		t.Fatalf("session: %v", err)
	}
	for i := 2; i < len(heard); i++ {
		if d := heard[i].onset.Sub(heard[i-1].onset); d < 900*time.Millisecond || d > 1100*time.Millisecond {
			t.Errorf("beeps %d and %d heard %v apart; want a second", i-1, i, d)
		}
	}
	// Mouth to ear: the beep's instant (a whole second) to its onset in
	// the monitor, a packet's 20 ms framing included.
	var delays []time.Duration
	for _, b := range heard {
		delays = append(delays, b.onset.Sub(b.onset.Truncate(time.Second)))
	}
	slices.Sort(delays)
	t.Logf("mouth to ear over %d beeps: p50 %d ms, max %d ms", len(delays), delays[len(delays)/2].Milliseconds(), delays[len(delays)-1].Milliseconds())
}
