// Package opus is p2pcam's audio codec: it sits between a PCM source (a
// mediadevices audio.Reader of 48 kHz samples, see package pcm) and the
// RTP packetizer, compressing 20 ms frames of mono sound with libopus
// (through cgo) set up for calls the way libwebrtc sets it up: the VOIP
// application, variable bitrate, in-band forward error correction (FEC)
// tuned by an expected-loss figure, no discontinuous transmission, and a
// bitrate that can change at any frame. A Decoder turns packets back into
// PCM and, for a packet that never came, recovers it from the FEC data of
// the next one or conceals it (PLC).
//
// Descriptor presents the codec to the rest of p2pcam (package codec),
// including what a WebM muxer needs (OpusHead, CodecDelay, SeekPreRoll); it
// exists in every build, and its constructors fail with
// codec.ErrUnavailable in a build without cgo. PacketDuration and
// OpusHead are pure Go and available everywhere too.
//
// There are two ways to encode. The plain one:
//
//	enc, err := opus.NewEncoder(opus.NewParams())
//	pkt, err := enc.Encode(pcm) // pcm: FrameSamples samples
//
// and Params as a mediadevices codec.AudioEncoderBuilder:
//
//	params := opus.NewParams()
//	sel := mediadevices.NewCodecSelector(mediadevices.WithAudioEncoders(&params))
//
// whose controller (track.EncoderController()) implements Controller:
// bitrate and expected-loss changes and live statistics.
package opus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// The stream p2pcam codes: mono at 48 kHz in 20 ms frames.
const (
	SampleRate    = 48000
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = SampleRate / 50
	// MaxPacketSamples is the longest packet Opus allows, 120 ms.
	MaxPacketSamples = SampleRate * 120 / 1000
)

// What a WebM muxer writes for an Opus track (the Matroska codec mapping
// for Opus, and RFC 7845 §4.2, §5.1).
const (
	// PreSkip is the number of samples at 48 kHz a decoder drops from the
	// start of the stream: libopus's lookahead for the VOIP application
	// at 48 kHz (2.5 ms of coding delay plus 4 ms of delay compensation),
	// which is what libwebrtc's encoder, also VOIP, has too. The encoder
	// reports its own in Encoder.Lookahead, and a test keeps the two equal.
	PreSkip = 312
	// CodecDelay is PreSkip as a duration (Matroska's CodecDelay, in
	// nanoseconds there).
	CodecDelay = time.Duration(PreSkip) * time.Second / SampleRate
	// SeekPreRoll is how much audio a decoder must see before a seek
	// target to converge: 80 ms, as RFC 7845 §4.6 recommends.
	SeekPreRoll = 80 * time.Millisecond
)

// Descriptor is Opus as p2pcam carries it and as browsers offer it:
// "opus/48000/2" (RFC 7587 §7: the rtpmap always says 48000 and 2 channels,
// whatever is coded), "minptime=10;useinbandfec=1" (RFC 7587 §6.1),
// payload type 111, with transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01). Packets travel
// one per RTP payload (RFC 7587 §4.2). Every Opus packet decodes on its
// own, so IsKeyFrame is always true. CodecPrivate is the OpusHead of a mono
// stream with PreSkip: p2pcam sends mono, browsers send mono unless
// "stereo=1" is negotiated, and a decoder set up for mono mixes stereo
// packets down rather than failing.
var Descriptor = codec.Descriptor{
	Name:            "Opus",
	Kind:            codec.Audio,
	MimeType:        webrtc.MimeTypeOpus,
	ClockRate:       SampleRate,
	Channels:        2,
	Fmtp:            "minptime=10;useinbandfec=1",
	PayloadType:     111,
	Feedback:        []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
	NewPayloader:    func() rtp.Payloader { return &codecs.OpusPayloader{} },
	NewDepacketizer: func() rtp.Depacketizer { return &codecs.OpusPacket{} },
	IsKeyFrame:      func([]byte) bool { return true },
	ContainerID:     "A_OPUS",
	NewAudioEncoder: newEncoderBuilder,
	EncoderStats:    encoderStats,
	NewAudioDecoder: newAudioDecoder,
	HasFEC:          HasFEC,
	CodecPrivate:    func() []byte { return OpusHead(1, PreSkip, SampleRate) },
	CodecDelay:      CodecDelay,
	SeekPreRoll:     SeekPreRoll,
}

// Errors about input.
var (
	// ErrBadInput is wrapped by Encode for PCM that is not one frame, and
	// by Decode for an empty or malformed packet.
	ErrBadInput = errors.New("bad opus input")
	// ErrClosed is returned by an Encoder or Decoder used after Close.
	ErrClosed = errors.New("opus codec closed")
	// ErrInvalidParams is wrapped by errors about Params or settings
	// outside their documented range.
	ErrInvalidParams = errors.New("invalid opus parameters")
)

// CodecError reports a failure inside libopus.
type CodecError struct {
	Op   string // the libopus call that failed, e.g. "opus_encode"
	Code int    // its OPUS_* error code (negative)
	Msg  string // libopus's text for Code
}

func (e *CodecError) Error() string { return "opus: " + e.Op + ": " + e.Msg }

// OpusHead returns the identification header of an Ogg or Matroska Opus
// stream (RFC 7845 §5.1), which WebM stores as the track's CodecPrivate:
// version 1, the channel count the decoder should output, the pre-skip in
// 48 kHz samples, the sample rate of the original input (informational),
// an output gain of 0 dB and channel mapping family 0 (mono or stereo, no
// mapping table).
func OpusHead(channels uint8, preSkip uint16, inputRate uint32) []byte {
	h := make([]byte, 19)
	copy(h, "OpusHead")
	h[8] = 1
	h[9] = channels
	binary.LittleEndian.PutUint16(h[10:], preSkip)
	binary.LittleEndian.PutUint32(h[12:], inputRate)
	// h[16:18]: output gain 0; h[18]: mapping family 0.
	return h
}

// PacketDuration reads how much audio an Opus packet holds from its TOC
// byte and, for code 3 packets, its frame count byte (RFC 6716 §3.1,
// §3.2.5). It checks only those bytes, not the frames themselves.
func PacketDuration(packet []byte) (time.Duration, error) {
	n, err := PacketSamples(packet)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second / SampleRate, nil
}

// PacketSamples is PacketDuration in samples at 48 kHz.
func PacketSamples(packet []byte) (int, error) {
	if len(packet) == 0 {
		return 0, errEmptyPacket
	}
	toc := packet[0]
	frame := frameSamples(toc)
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(packet) < 2 {
			return 0, errBadCount
		}
		frames = int(packet[1] & 0x3f)
		if frames == 0 || frames*frame > MaxPacketSamples {
			return 0, errBadCount
		}
	}
	return frames * frame, nil
}

// frameSamples is how many samples at 48 kHz each Opus frame of a packet
// with TOC byte toc holds, by its configuration (RFC 6716 §3.1).
func frameSamples(toc byte) int {
	switch config := int(toc >> 3); {
	case config < 12: // SILK-only: 10, 20, 40, 60 ms
		return []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		return []int{480, 960}[config%2]
	default: // CELT-only: 2.5, 5, 10, 20 ms
		return []int{120, 240, 480, 960}[config%4]
	}
}

// Errors of PacketSamples.
var (
	errEmptyPacket = fmt.Errorf("opus: empty packet: %w", ErrBadInput)
	errBadCount    = fmt.Errorf("opus: code 3 packet has a missing or impossible frame count: %w", ErrBadInput)
)

// HasFEC reports whether packet carries in-band FEC data (SILK's low
// bitrate redundancy, LBRR) for the packet before it, so that a decoder
// given it for a lost packet recovers that packet rather than concealing
// it. A sender codes FEC only when it expects loss (Params.PacketLoss);
// CELT-only packets never carry any.
//
// The answer is read from the packet, not decoded: the SILK layer of the
// packet's first Opus frame (RFC 6716 §3.2 for where the frames lie)
// opens with its header bits, one voice activity flag per SILK frame (one
// for a 10 or 20 ms Opus frame, two for 40 ms, three for 60 ms) and then
// the LBRR flag, followed in a stereo packet by the same flags of the
// side channel (§4.2.3, §4.2.4). Each of those bits is range coded with
// a probability of one half, which puts them, in order, in the top bits
// of the frame's first byte (the range decoder of §4.1 reads a bit coded
// that way as the first byte's most significant bit). An empty, malformed
// or DTX (empty first frame) packet has none.
func HasFEC(packet []byte) bool {
	if len(packet) == 0 {
		return false
	}
	toc := packet[0]
	config := toc >> 3
	if config >= 16 { // CELT-only
		return false
	}
	// SILK codes 20 ms frames, a 10 ms Opus frame as one.
	silkFrames := max(frameSamples(toc)/960, 1)
	first, ok := firstFrame(packet)
	if !ok || len(first) == 0 {
		return false
	}
	b := first[0]
	mid := b>>(7-silkFrames)&1 == 1
	if toc&0x4 == 0 { // mono
		return mid
	}
	side := b>>(6-2*silkFrames)&1 == 1
	return mid || side
}

// firstFrame returns the first Opus frame of packet (RFC 6716 §3.2), and
// false when the packet's framing is malformed.
func firstFrame(packet []byte) ([]byte, bool) {
	rest := packet[1:]
	switch packet[0] & 3 {
	case 0: // one frame
		return rest, true
	case 1: // two frames of equal size
		if len(rest)%2 != 0 {
			return nil, false
		}
		return rest[:len(rest)/2], true
	case 2: // two frames, the first's size given
		n, used, ok := frameLength(rest)
		if !ok || n > len(rest)-used {
			return nil, false
		}
		return rest[used : used+n], true
	}
	// Code 3: a frame count byte (VBR flag, padding flag, count), the
	// padding length, then for VBR the sizes of all frames but the last.
	if len(rest) < 1 {
		return nil, false
	}
	head := rest[0]
	count := int(head & 0x3f)
	rest = rest[1:]
	if count == 0 {
		return nil, false
	}
	padding := 0
	if head&0x40 != 0 {
		for {
			if len(rest) < 1 {
				return nil, false
			}
			p := int(rest[0])
			rest = rest[1:]
			if p < 255 {
				padding += p
				break
			}
			padding += 254
		}
	}
	if head&0x80 == 0 { // CBR: count frames of equal size
		data := len(rest) - padding
		if data < 0 || data%count != 0 {
			return nil, false
		}
		return rest[:data/count], true
	}
	size := 0
	var first int
	for i := range count - 1 {
		n, used, ok := frameLength(rest)
		if !ok {
			return nil, false
		}
		if i == 0 {
			first = n
		}
		size += n
		rest = rest[used:]
	}
	if size > len(rest)-padding {
		return nil, false
	}
	if count == 1 {
		first = len(rest) - padding
	}
	return rest[:first], true
}

// frameLength reads a frame length coded in one or two bytes (RFC 6716
// §3.2.1) and returns it with the number of bytes it took.
func frameLength(b []byte) (n, used int, ok bool) {
	switch {
	case len(b) < 1:
		return 0, 0, false
	case b[0] < 252:
		return int(b[0]), 1, true
	case len(b) < 2:
		return 0, 0, false
	}
	return int(b[1])*4 + int(b[0]), 2, true
}
