//go:build cgo

package opus

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	mdcodec "github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// stereoChunks returns a reader of the 1 kHz tone in stereo chunks of
// chunkLen samples at rate Hz, total samples long, then io.EOF.
func stereoChunks(chunkLen, rate, total int) audio.Reader {
	pos := 0
	return audio.ReaderFunc(func() (wave.Audio, func(), error) {
		if pos >= total {
			return nil, nil, io.EOF
		}
		n := min(chunkLen, total-pos)
		a := wave.NewInt16Interleaved(wave.ChunkInfo{Len: n, Channels: 2, SamplingRate: rate})
		for i, v := range tone(1000, 0.5, pos, n) {
			a.SetInt16(i, 0, wave.Int16Sample(v))
			a.SetInt16(i, 1, wave.Int16Sample(v/2)) // mixed: 0.375 of full
		}
		pos += n
		return a, func() {}, nil
	})
}

func TestTrackEncoderFramesMixesAndEnds(t *testing.T) {
	d, err := Descriptor.NewAudioEncoder(codec.EncoderParams{BitRate: 24_000, PacketLoss: 10})
	if err != nil {
		t.Fatal(err)
	}
	c := d.RTPCodec()
	if c.Latency != FrameDuration || c.ClockRate != 48000 || c.Channels != 2 || c.PayloadType != 111 ||
		c.SDPFmtpLine != Descriptor.Fmtp || c.Payloader == nil {
		t.Errorf("RTPCodec = %+v", c)
	}
	// 1 s in 7 ms chunks: frames straddle chunks; the last 40 samples are
	// not a whole frame and never come out.
	rc, err := d.BuildAudioEncoder(stereoChunks(336, SampleRate, SampleRate+40), prop.Media{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	dec := newDecoder(t)
	var out []int16
	for {
		pkt, release, err := rc.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		pcm, err := dec.Decode(pkt)
		release()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pcm...)
	}
	if len(out) != SampleRate {
		t.Errorf("decoded %d samples, want %d", len(out), SampleRate)
	}
	if got := rms(out[SampleRate/5:]); got < 0.375/1.41*0.84 || got > 0.375/1.41*1.19 {
		t.Errorf("level %.3f, want the channels' mean 0.265±1.5 dB", got)
	}

	ctl, ok := rc.Controller().(Controller)
	if !ok {
		t.Fatalf("controller %T is not a Controller", rc.Controller())
	}
	if err := ctl.(mdcodec.BitRateController).SetBitRate(16_000); err != nil {
		t.Fatal(err)
	}
	s, ok := Descriptor.EncoderStats(rc.Controller())
	if !ok || s.Frames != 50 || s.TargetBitRate != 16_000 || s.EncodeCPU <= 0 {
		t.Errorf("EncoderStats = %+v, %v", s, ok)
	}
	if ctl.Stats().PacketLoss != 10 {
		t.Errorf("PacketLoss %d, want 10", ctl.Stats().PacketLoss)
	}
}

func TestTrackEncoderRejectsOtherRates(t *testing.T) {
	p := NewParams()
	if _, err := p.BuildAudioEncoder(stereoChunks(480, 44100, 4800), prop.Media{Audio: prop.Audio{SampleRate: 44100}}); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("build at 44.1 kHz: %v, want ErrInvalidParams", err)
	}
	rc, err := p.BuildAudioEncoder(stereoChunks(480, 44100, 4800), prop.Media{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, _, err := rc.Read(); !errors.Is(err, ErrBadInput) {
		t.Errorf("Read of a 44.1 kHz chunk: %v, want ErrBadInput", err)
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	rc2, _ := p.BuildAudioEncoder(stereoChunks(960, SampleRate, 9600), prop.Media{})
	rc2.Close()
	if _, _, err := rc2.Read(); !errors.Is(err, io.EOF) {
		t.Errorf("Read after Close: %v, want io.EOF", err)
	}
}

func TestDescriptorDecoderRecoversAndConceals(t *testing.T) {
	enc := newEncoder(t, Params{PacketLoss: 20})
	pkts := encodeAll(t, enc, tone(1000, 0.5, 0, 10*FrameSamples))
	d, err := Descriptor.NewAudioDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, p := range pkts[:5] {
		if _, err := d.Decode(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, next := range [][]byte{pkts[6], nil} {
		pcm, err := d.DecodeLost(next, FrameSamples)
		if err != nil || len(pcm) != FrameSamples {
			t.Errorf("DecodeLost(next=%v): %d samples, %v", next != nil, len(pcm), err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOggFileDecodesWithFFmpeg writes 2 s of packets into an Ogg/Opus file
// with pion's oggwriter and has ffprobe and ffmpeg read it back.
func TestOggFileDecodesWithFFmpeg(t *testing.T) {
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	enc := newEncoder(t, NewParams())
	path := filepath.Join(t.TempDir(), "tone.ogg")
	w, err := oggwriter.New(path, SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range encodeAll(t, enc, tone(1000, 0.5, 0, 2*SampleRate)) {
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * FrameSamples)}, Payload: p}
		if err := w.WriteRTP(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0",
		"-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "opus,48000,1" {
		t.Errorf("ffprobe says %q, want opus,48000,1", got)
	}
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "48000", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pcm, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg decode: %v\n%s", err, stderr.String())
	}
	samples := make([]int16, len(pcm)/2)
	for i := range samples {
		samples[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
	}
	// ffmpeg drops the pre-skip, which pion's oggwriter always writes as
	// 3840 samples (80 ms), not the encoder's lookahead.
	const oggPreSkip = 3840
	if want := 2*SampleRate - oggPreSkip; len(samples) != want {
		t.Errorf("ffmpeg decoded %d samples, want %d", len(samples), want)
	}
	if p := db(goertzel(samples[SampleRate/2:], 1000) / goertzel(samples[SampleRate/2:], 1500)); p < 30 {
		t.Errorf("1 kHz only %.1f dB above 1.5 kHz in ffmpeg's decode", p)
	}
}
