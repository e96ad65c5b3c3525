//go:build cgo

package opus

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	mdcodec "github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
)

// Defaults used by NewParams and for zero fields of a Params.
const (
	// DefaultBitRate is libwebrtc's default for mono Opus.
	DefaultBitRate = 32_000
	// DefaultComplexity is libwebrtc's choice on desktop machines: about
	// 1% of a core at 32 kbit/s, 2% with FEC (see BenchmarkEncode).
	DefaultComplexity = 9
)

// The range libopus accepts for a bitrate, bits/s.
const (
	MinBitRate = 6_000
	MaxBitRate = 510_000
)

// maxPacket is the room offered to libopus for one packet: its own
// recommendation (opus_encode's documentation), far above what 20 ms at
// MaxBitRate needs (1275 bytes).
const maxPacket = 4000

// Params are the encoder settings. Zero BitRate and Complexity take the
// Default* values, so Params{} behaves like NewParams(). Params implements
// mediadevices' codec.AudioEncoderBuilder; it is copied when an encoder is
// built, so later changes to it do not affect running encoders.
type Params struct {
	// BitRate is the initial target in bits/s, clamped to
	// [MinBitRate, MaxBitRate].
	BitRate int
	// Complexity is libopus's speed/quality trade-off, 1 (fastest) to 10.
	Complexity int
	// PacketLoss is the expected loss in percent (0..100). With 0 the
	// encoder sends no FEC data; with more, libopus spends part of the
	// bitrate repeating each frame at low quality inside the next packet
	// (in-band FEC, RFC 6716 §2.1.7), more as the figure grows. Set it
	// from receiver reports with SetPacketLoss, as libwebrtc does.
	PacketLoss int
	// NoFEC turns in-band FEC off: the encoder then codes no redundancy
	// whatever PacketLoss says (it still uses PacketLoss for its other
	// choices). p2pcam keeps FEC on; this is for measuring what it buys.
	NoFEC bool
}

// NewParams returns the defaults.
func NewParams() Params {
	return Params{BitRate: DefaultBitRate, Complexity: DefaultComplexity}
}

func (p Params) normalized() (Params, error) {
	if p.BitRate == 0 {
		p.BitRate = DefaultBitRate
	}
	if p.Complexity == 0 {
		p.Complexity = DefaultComplexity
	}
	if p.BitRate < 0 {
		return p, fmt.Errorf("opus: bitrate %d: %w", p.BitRate, ErrInvalidParams)
	}
	p.BitRate = min(max(p.BitRate, MinBitRate), MaxBitRate)
	if p.Complexity < 1 || p.Complexity > 10 {
		return p, fmt.Errorf("opus: complexity %d outside 1..10: %w", p.Complexity, ErrInvalidParams)
	}
	if p.PacketLoss < 0 || p.PacketLoss > 100 {
		return p, fmt.Errorf("opus: packet loss %d%% outside 0..100: %w", p.PacketLoss, ErrInvalidParams)
	}
	return p, nil
}

// Stats are an encoder's running figures.
type Stats struct {
	Frames     uint64        // frames encoded
	Bytes      uint64        // bytes of the packets produced
	EncodeCPU  time.Duration // CPU time (of the encoding thread) spent in libopus
	BitRate    int           // bits/s the encoder aims at now
	PacketLoss int           // expected loss, percent, it codes FEC for
}

// CPUPerFrame is the mean CPU time spent on one frame.
func (s Stats) CPUPerFrame() time.Duration {
	if s.Frames == 0 {
		return 0
	}
	return s.EncodeCPU / time.Duration(s.Frames)
}

// Controller is what an encoder built through mediadevices answers to
// (the value of its track's EncoderController).
type Controller interface {
	mdcodec.BitRateController
	// SetPacketLoss sets the expected loss in percent (0..100) the
	// encoder codes FEC for.
	SetPacketLoss(percent int) error
	// Stats returns the encoder's figures so far.
	Stats() Stats
}

// Encoder compresses 20 ms frames of 48 kHz mono PCM into Opus packets.
// Its methods are safe for concurrent use: a congestion controller may
// call SetBitRate while another goroutine encodes.
type Encoder struct {
	mu      sync.Mutex // guards everything below, and the C state
	c       *cEncoder
	stats   Stats
	scratch []byte // libopus writes each packet here
}

// NewEncoder returns an encoder with the given settings; see Params.
func NewEncoder(p Params) (*Encoder, error) {
	p, err := p.normalized()
	if err != nil {
		return nil, err
	}
	c, err := newCEncoder(p.BitRate, p.Complexity, p.PacketLoss, !p.NoFEC)
	if err != nil {
		return nil, err
	}
	return &Encoder{c: c, stats: Stats{BitRate: p.BitRate, PacketLoss: p.PacketLoss}, scratch: make([]byte, maxPacket)}, nil
}

// Encode compresses one frame, exactly FrameSamples samples, and returns
// the packet (the caller's to keep).
func (e *Encoder) Encode(pcm []int16) ([]byte, error) {
	if len(pcm) != FrameSamples {
		return nil, fmt.Errorf("opus: frame of %d samples, want %d: %w", len(pcm), FrameSamples, ErrBadInput)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return nil, ErrClosed
	}
	n, cpu, err := e.c.encode(pcm, e.scratch)
	e.stats.EncodeCPU += time.Duration(cpu)
	if err != nil {
		return nil, err
	}
	e.stats.Frames++
	e.stats.Bytes += uint64(n)
	return append([]byte(nil), e.scratch[:n]...), nil
}

// SetBitRate changes the target from the next frame on, clamped to
// [MinBitRate, MaxBitRate]; it implements mediadevices'
// codec.BitRateController.
func (e *Encoder) SetBitRate(bps int) error {
	if bps <= 0 {
		return fmt.Errorf("opus: bitrate %d: %w", bps, ErrInvalidParams)
	}
	bps = min(max(bps, MinBitRate), MaxBitRate)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return ErrClosed
	}
	if err := e.c.setBitRate(bps); err != nil {
		return err
	}
	e.stats.BitRate = bps
	return nil
}

// SetPacketLoss sets the expected loss in percent (0..100) that the
// encoder codes in-band FEC for, from the next frame on.
func (e *Encoder) SetPacketLoss(percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("opus: packet loss %d%% outside 0..100: %w", percent, ErrInvalidParams)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return ErrClosed
	}
	if err := e.c.setLoss(percent); err != nil {
		return err
	}
	e.stats.PacketLoss = percent
	return nil
}

// Lookahead is the encoder's delay in samples at 48 kHz, which a
// container stores as the stream's pre-skip (see PreSkip).
func (e *Encoder) Lookahead() (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return 0, ErrClosed
	}
	return e.c.lookahead()
}

// Stats returns the figures so far.
func (e *Encoder) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Close frees the encoder; it is idempotent, and later calls to the other
// methods fail with ErrClosed.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c != nil {
		e.c.close()
		e.c = nil
	}
	return nil
}

// RTPCodec implements mediadevices' codec.AudioEncoderBuilder: Descriptor's
// SDP parameters, pion's Opus payloader, and one 20 ms frame per packet
// (mediadevices advances the RTP timestamp by Latency for each).
func (p *Params) RTPCodec() *mdcodec.RTPCodec {
	c := mdcodec.NewRTPOpusCodec(SampleRate)
	c.RTPCodecParameters = Descriptor.Parameters()
	c.Payloader = Descriptor.NewPayloader()
	c.Latency = FrameDuration
	return c
}

// BuildAudioEncoder implements mediadevices' codec.AudioEncoderBuilder.
// The reader must deliver 48 kHz audio (package pcm's sources do; a chunk
// at another rate makes Read fail); chunks of any length and any number
// of channels are taken, channels mixed to mono. Read returns one packet
// per 20 ms frame, and io.EOF once the reader ends or the encoder is
// closed; Close does not close the reader.
func (p *Params) BuildAudioEncoder(r audio.Reader, m prop.Media) (mdcodec.ReadCloser, error) {
	if m.SampleRate != 0 && m.SampleRate != SampleRate {
		return nil, fmt.Errorf("opus: source at %d Hz, want %d: %w", m.SampleRate, SampleRate, ErrInvalidParams)
	}
	enc, err := NewEncoder(*p)
	if err != nil {
		return nil, err
	}
	return &trackEncoder{src: r, enc: enc, pcm: make([]int16, 0, 2*FrameSamples)}, nil
}

// trackEncoder is the mdcodec.ReadCloser of BuildAudioEncoder. Read is
// called from one goroutine; pcm belongs to it.
type trackEncoder struct {
	src audio.Reader
	enc *Encoder
	pcm []int16 // samples waiting for a whole frame
}

func (t *trackEncoder) Read() ([]byte, func(), error) {
	for len(t.pcm) < FrameSamples {
		chunk, release, err := t.src.Read()
		if err != nil {
			return nil, noop, err
		}
		err = t.appendMono(chunk)
		if release != nil {
			release()
		}
		if err != nil {
			return nil, noop, err
		}
	}
	pkt, err := t.enc.Encode(t.pcm[:FrameSamples])
	if errors.Is(err, ErrClosed) {
		return nil, noop, io.EOF
	}
	if err != nil {
		return nil, noop, err
	}
	t.pcm = append(t.pcm[:0], t.pcm[FrameSamples:]...)
	return pkt, noop, nil
}

// appendMono adds chunk to pcm, mixing its channels.
func (t *trackEncoder) appendMono(chunk wave.Audio) error {
	info := chunk.ChunkInfo()
	if info.SamplingRate != SampleRate {
		return fmt.Errorf("opus: audio chunk at %d Hz, want %d: %w", info.SamplingRate, SampleRate, ErrBadInput)
	}
	if info.Channels < 1 {
		return fmt.Errorf("opus: audio chunk with %d channels: %w", info.Channels, ErrBadInput)
	}
	if a, ok := chunk.(*wave.Int16Interleaved); ok && info.Channels == 1 {
		t.pcm = append(t.pcm, a.Data[:info.Len]...)
		return nil
	}
	conv := wave.Int16SampleFormat
	for i := range info.Len {
		var sum int
		for ch := range info.Channels {
			sum += int(conv.Convert(chunk.At(i, ch)).(wave.Int16Sample))
		}
		t.pcm = append(t.pcm, int16(sum/info.Channels))
	}
	return nil
}

func (t *trackEncoder) Controller() mdcodec.EncoderController { return t.enc }

func (t *trackEncoder) Close() error { return t.enc.Close() }

func noop() {}
