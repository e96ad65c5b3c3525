//go:build cgo

package capture

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/pcm"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// TestBeepThroughOpusAndPeer: the test beep (--audio test) goes through
// the Sender's Opus track and a real PeerConnection on loopback; the
// other side's RTP timestamps advance by exactly the 960 samples of each
// packet, and decoded with libopus the beeps are 1 kHz, start at whole
// seconds of the clock the beep was made on, and are a second apart
// within a millisecond.
func TestBeepThroughOpusAndPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snd, err := OpenSender(ctx, SenderConfig{Audio: AudioSource{Kind: AudioTest}, AudioOptions: AudioOptions{Codec: opus.Descriptor}})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	a := snd.Audio()
	if a == nil || snd.Video() != nil || len(snd.Tracks()) != 1 || a.Kind() != codec.Audio {
		t.Fatalf("sender tracks %v: want one audio track", snd.Tracks())
	}
	codecs := []codec.Descriptor{opus.Descriptor}
	tx, err := peer.New(peer.Config{Send: []peer.SendTrack{{Track: a, Codec: a.Codec()}}, Codecs: codecs, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := peer.New(peer.Config{Receive: []codec.Kind{codec.Audio}, Codecs: codecs, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	offer, err := tx.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := rx.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Accept(answer); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer.Peer{tx, rx} {
		if err := p.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The beep's clock starts at the source's first read, which comes
	// after Start and before the first packet arrives.
	before := time.Now()
	if err := snd.Start(); err != nil {
		t.Fatal(err)
	}
	var after time.Time
	var remote peer.RemoteTrack
	select {
	case remote = <-rx.Tracks():
	case <-ctx.Done():
		t.Fatal("no remote track")
	}
	if remote.Err != nil || !remote.Codec.Is(opus.Descriptor.MimeType) || remote.Kind() != codec.Audio {
		t.Fatalf("remote track %s %s, %v; want audio in Opus", remote.Kind(), remote.Codec.MimeType, remote.Err)
	}

	// 4.3 s of packets: at least three whole beeps after silence.
	dec, err := opus.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var (
		out   []int16
		first *rtp.Header
		prev  rtp.Header
	)
	for len(out) < 215*opus.FrameSamples {
		pkt, _, err := remote.Track.ReadRTP()
		if err != nil {
			t.Fatalf("read RTP: %v", err)
		}
		if first == nil {
			after = time.Now()
			h := pkt.Header
			first = &h
		} else if pkt.SequenceNumber != prev.SequenceNumber+1 || pkt.Timestamp-prev.Timestamp != opus.FrameSamples {
			t.Fatalf("packet %d at %d after %d at %d: want the next sequence number, 960 samples later",
				pkt.SequenceNumber, pkt.Timestamp, prev.SequenceNumber, prev.Timestamp)
		}
		prev = pkt.Header
		s, err := dec.Decode(pkt.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s...)
	}
	out = out[opus.PreSkip:] // the decoder's delay: out[i] is input sample i

	onsets := beepOnsets(out)
	if len(onsets) < 3 {
		t.Fatalf("found %d beep onsets in 4.3 s, want 3 or more", len(onsets))
	}
	for i, k := range onsets {
		// Sample k stands for the beep's start plus k/48000 s; the beep
		// started between Start and the first packet's arrival.
		at := before.Add(time.Duration(k) * time.Second / pcm.SampleRate)
		frac := time.Duration(at.UnixNano() % int64(time.Second))
		if frac > time.Second/2 {
			frac -= time.Second
		}
		slack := after.Sub(before) + 2*time.Millisecond
		if frac < -2*time.Millisecond || frac > slack {
			t.Errorf("beep %d starts %v from a whole second, want 0 (within the %v from Start to the first packet)", i, frac, slack)
		}
		// The samples are exact; the codec blurs an onset that falls near
		// a frame's edge by up to about a millisecond (47957 was seen).
		if i > 0 && (k-onsets[i-1] < pcm.SampleRate-48 || k-onsets[i-1] > pcm.SampleRate+48) {
			t.Errorf("beeps %d and %d are %d samples apart, want 48000±48 (the codec blurs onsets near a frame's edge)", i-1, i, k-onsets[i-1])
		}
		beep := out[k+480 : k+480+2400] // the middle 50 ms
		if g := goertzelLevel(beep, pcm.BeepFreq); g < 0.4 || g > 0.6 {
			t.Errorf("beep %d: 1 kHz at %.2f of full scale, want 0.5", i, g)
		}
	}
}

// beepOnsets returns where each beep starts: the first sample above 5%
// of full scale after at least 0.5 s of quiet (so a beep already under way
// when the sound began is not taken for one starting).
func beepOnsets(x []int16) []int {
	const thr = 0.05 * 32768
	var on []int
	quiet := 0 // samples since the last loud one
	for i, v := range x {
		if math.Abs(float64(v)) > thr {
			if quiet >= pcm.SampleRate/2 && i+480+2400 <= len(x) {
				on = append(on, i)
			}
			quiet = 0
			continue
		}
		quiet++
	}
	return on
}

// goertzelLevel is the amplitude of freq in x, as a fraction of full
// scale.
func goertzelLevel(x []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / pcm.SampleRate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v)/32768 + c*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(p) / float64(len(x))
}

// TestSenderSharesTheBitRateSoundFirst: of a congestion controller's
// target the sound takes AudioShare first and the video the rest, and
// the loss receivers report reaches the sound's encoder.
func TestSenderSharesTheBitRateSoundFirst(t *testing.T) {
	snd, err := OpenSender(context.Background(), SenderConfig{
		Video:        Source{Kind: Test},
		VideoOptions: Options{Width: 64, Height: 48, FPS: 10, Bitrate: 500_000, Codec: vp8.Descriptor},
		Audio:        AudioSource{Kind: AudioTest},
		AudioOptions: AudioOptions{Codec: opus.Descriptor},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	if len(snd.Tracks()) != 2 || snd.Tracks()[0] != snd.Video() || snd.Tracks()[1] != snd.Audio() {
		t.Fatalf("tracks %v: want video, then audio", snd.Tracks())
	}
	tests := []struct {
		target, audio, video int
	}{
		{400_000, AudioShare, 400_000 - AudioShare},
		{AudioShare + 60_000, AudioShare, 60_000},
	}
	for _, tt := range tests {
		snd.SetBitRate(tt.target)
		as, _ := snd.Audio().EncoderStats()
		vs, _ := snd.Video().EncoderStats()
		if as.TargetBitRate != tt.audio || vs.TargetBitRate != tt.video {
			t.Errorf("SetBitRate(%d): audio %d, video %d; want %d, %d", tt.target, as.TargetBitRate, vs.TargetBitRate, tt.audio, tt.video)
		}
	}
	snd.SetPacketLoss(12)
	if ctl, ok := snd.Audio().Encoder().(opus.Controller); !ok || ctl.Stats().PacketLoss != 12 {
		t.Errorf("the sound's encoder codes FEC for %+v, want 12%% loss", snd.Audio().Encoder())
	}
}
