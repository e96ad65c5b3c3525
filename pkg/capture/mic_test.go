//go:build cgo

package capture

import (
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/wave"

	"github.com/p2pcam/p2pcam/internal/testpulse"
	"github.com/p2pcam/p2pcam/pkg/opus"
)

// TestMicrophoneCapturesAToneFromPulseAudio: under a private PulseAudio,
// the null sink's monitor is listed as the default microphone, and a
// 1 kHz tone played into the sink comes out of the microphone as 48 kHz
// mono 20 ms chunks at its frequency and level, nothing dropped.
func TestMicrophoneCapturesAToneFromPulseAudio(t *testing.T) {
	srv := testpulse.Start(t)
	mics, err := Microphones()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(mics, func(m Microphone) bool { return m.Name == "mic.monitor" })
	if i < 0 || !mics[i].Default || mics[i].Label == "" {
		t.Fatalf("Microphones() = %+v, want mic.monitor as the default, with a label", mics)
	}

	m, err := openMic("mic.monitor")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, _, err := m.Read(); err != nil { // starts the device
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv.Play(t, ctx, testpulse.ToneWAV(t, 1000, 0.5, 3*time.Second))
	var loud []int16
	for len(loud) < 48000 && ctx.Err() == nil {
		chunk, _, err := m.Read()
		if err != nil {
			t.Fatal(err)
		}
		info := chunk.ChunkInfo()
		if info.Len != 960 || info.Channels != 1 || info.SamplingRate != 48000 {
			t.Fatalf("chunk %+v, want 960 samples of 48 kHz mono", info)
		}
		pcm := chunk.(*wave.Int16Interleaved).Data
		if level(pcm) > 0.3 {
			loud = append(loud, pcm...)
		}
	}
	if len(loud) < 48000 {
		t.Fatalf("heard %d loud samples within 20s, want a second of the tone", len(loud))
	}
	// 0.5 of full scale: an RMS of 0.354.
	if l := level(loud); l < 0.3 || l > 0.4 {
		t.Errorf("tone level %.3f, want 0.354", l)
	}
	if f := zeroCrossingFreq(loud, 48000); math.Abs(f-1000) > 10 {
		t.Errorf("tone at %.1f Hz, want 1000", f)
	}
	if d := m.Dropped(); d != 0 {
		t.Errorf("dropped %d samples with a reader keeping up", d)
	}
}

// TestMicrophoneCloseEndsAWaitingRead: Close wakes a Read that waits for
// sound, which then returns io.EOF.
func TestMicrophoneCloseEndsAWaitingRead(t *testing.T) {
	testpulse.Start(t)
	m, err := openMic("")
	if err != nil {
		t.Fatal(err)
	}
	if m.info.Name != "mic.monitor" {
		t.Errorf("default microphone %q, want mic.monitor", m.info.Name)
	}
	errc := make(chan error, 1)
	go func() {
		for {
			if _, _, err := m.Read(); err != nil {
				errc <- err
				return
			}
		}
	}()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, io.EOF) {
			t.Errorf("Read after Close: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still waiting 5s after Close")
	}
}

// TestMicrophoneNamesThatDoNotExist: a name no microphone has fails with
// the names there are.
func TestMicrophoneNamesThatDoNotExist(t *testing.T) {
	testpulse.Start(t)
	_, err := openMic("usb-mic")
	var nm *NoMicrophoneError
	if !errors.As(err, &nm) || !errors.Is(err, ErrNoMicrophone) || !slices.Contains(nm.Have, "mic.monitor") {
		t.Fatalf("openMic(usb-mic) = %v, want a NoMicrophoneError listing mic.monitor", err)
	}
}

// TestNoSoundServer: without a sound server, listing and opening
// microphones fail with ErrNoSoundServer, auto sends no sound without an
// error, and a sender with nothing else to send has nothing to send.
func TestNoSoundServer(t *testing.T) {
	t.Setenv("PULSE_SERVER", "unix:"+t.TempDir()+"/none")
	if _, err := Microphones(); !errors.Is(err, ErrNoSoundServer) {
		t.Errorf("Microphones() = %v, want ErrNoSoundServer", err)
	}
	opts := AudioOptions{Codec: opus.Descriptor}
	if _, _, err := openAudio(AudioSource{Kind: AudioMic}, opts); !errors.Is(err, ErrNoSoundServer) {
		t.Errorf("open default: %v, want ErrNoSoundServer", err)
	}
	tr, skipped, err := openAudio(AudioSource{Kind: AudioAuto}, opts)
	if tr != nil || err != nil || !errors.Is(skipped, ErrNoSoundServer) {
		t.Errorf("open auto = %v, skipped %v, %v; want no track, skipped for ErrNoSoundServer, no error", tr, skipped, err)
	}
	_, err = OpenSender(context.Background(), SenderConfig{Audio: AudioSource{Kind: AudioAuto}, AudioOptions: opts})
	if !errors.Is(err, ErrNothingToSend) {
		t.Errorf("sender of auto alone: %v, want ErrNothingToSend", err)
	}
}

// level is the RMS of pcm as a fraction of full scale.
func level(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum/float64(len(pcm))) / 32768
}

// zeroCrossingFreq estimates the frequency of a tone from its upward zero
// crossings.
func zeroCrossingFreq(pcm []int16, rate int) float64 {
	first, last, n := -1, -1, 0
	for i := 1; i < len(pcm); i++ {
		if pcm[i-1] < 0 && pcm[i] >= 0 {
			if first < 0 {
				first = i
			}
			last = i
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) * float64(rate) / float64(last-first)
}

// TestMicrophoneThatGoesAwayStops: when the sound server goes away
// during capture, Read fails with ErrMicStopped instead of waiting
// forever.
func TestMicrophoneThatGoesAwayStops(t *testing.T) {
	srv := testpulse.Start(t)
	m, err := openMic("")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, _, err := m.Read(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	errc := make(chan error, 1)
	go func() {
		for {
			if _, _, err := m.Read(); err != nil {
				errc <- err
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrMicStopped) {
			t.Errorf("Read after the server went away: %v, want ErrMicStopped", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read still waiting 10s after the sound server went away")
	}
}
