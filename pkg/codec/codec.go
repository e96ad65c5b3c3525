// Package codec describes a codec to the rest of p2pcam. A Descriptor says
// everything the pipeline needs to know about one codec: how it is named in
// SDP (MIME type, clock rate, channels, fmtp, RTP payload type and RTCP
// feedback), how its frames travel in RTP (payloader and depacketizer), how
// to spot a keyframe, how it is named in a container, and how to build its
// encoder and decoder.
//
// capture, peer, record, decode and the viewer take descriptors and never
// name a codec themselves: a new codec is one package (pkg/vp8 is the
// first) that exports a Descriptor, plus one line in the table of package
// codecs. Tests prove the seam with a codec of their own.
package codec

import (
	"errors"
	"image"
	"strings"
	"time"

	mdcodec "github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Kind says what a codec carries: webrtc.RTPCodecTypeVideo or
// webrtc.RTPCodecTypeAudio.
type Kind = webrtc.RTPCodecType

// The kinds of track p2pcam carries.
const (
	Video = webrtc.RTPCodecTypeVideo
	Audio = webrtc.RTPCodecTypeAudio
)

// ErrUnavailable is wrapped by the constructors of a codec this build has
// no implementation for (a cgo codec in a build without cgo).
var ErrUnavailable = errors.New("codec not in this build")

// EncoderParams configure a new encoder.
type EncoderParams struct {
	// BitRate is the starting target, bits per second (0: the codec's
	// default).
	BitRate int
	// Speed is the codec's own speed/quality knob (libvpx's cpu-used for
	// VP8, libopus's complexity for Opus); 0 means the codec's default.
	Speed int
	// PacketLoss is the expected loss in percent, for codecs that add
	// in-band redundancy for it (Opus); 0 means none expected.
	PacketLoss int
	// NoFEC turns that in-band redundancy off whatever the loss (a test
	// knob: it lets a figure compare sound under loss with and without).
	NoFEC bool
	// TemporalLayers is how many temporal layers a video encoder makes
	// (codecs with Descriptor.Layers); 0 or 1 means none, one stream in
	// which every frame may be needed by the next.
	TemporalLayers int
}

// Layering is how a codec's RTP stream carries temporal layers: frames
// of layer n reference only frames of layers up to n, so a receiver sent
// only the layers up to some layer still decodes a picture, at a lower
// frame rate. One encoded stream can then serve receivers whose links
// carry different rates, as an SFU does (RFC 7667 §3.7).
type Layering struct {
	// NewPayloader returns a payloader that marks each packet with its
	// frame's layer; a track whose encoder makes layers uses it instead
	// of Descriptor.NewPayloader.
	NewPayloader func() rtp.Payloader
	// NewFilter returns the state that thins one receiver's copy of a
	// stream NewPayloader made.
	NewFilter func() LayerFilter
	// Share returns, for an encoder making the given number of layers,
	// the fraction of its bitrate that layers 0..i carry together, for
	// each layer i (the last is 1).
	Share func(layers int) []float64
}

// LayerFilter thins one receiver's copy of a layered RTP stream. It is
// not safe for concurrent use.
type LayerFilter interface {
	// Filter takes the payload of the stream's next RTP packet and the
	// highest layer the receiver is to get, and returns the payload to
	// send it, with the codec's own numbering rewritten so the
	// receiver's stream has no gaps, or ok false to leave the packet
	// out. Keyframes are always kept; a change of maxLayer takes effect
	// at a frame where the receiver can decode the higher layers. Filter
	// may change payload in place and return it: pass a copy the
	// receiver owns, not the payload other receivers share.
	Filter(payload []byte, maxLayer int) (out []byte, ok bool)
}

// EncoderStats are an encoder's running figures.
type EncoderStats struct {
	Frames        uint64        // frames encoded
	Dropped       uint64        // frames the rate control skipped
	EncodeCPU     time.Duration // CPU time spent encoding, over Frames+Dropped
	TargetBitRate int           // bits/s the encoder aims at now
}

// VideoDecoder turns received frames back into pictures.
type VideoDecoder interface {
	// Decode returns the frame's picture (the caller's to keep), an error
	// wrapping ErrSkip when there is none to show, or another error for a
	// frame it cannot decode.
	Decode(frame []byte) (*image.YCbCr, error)
	// Close frees the decoder; it is idempotent.
	Close() error
}

// AudioDecoder turns received audio packets back into sound: mono 16-bit
// samples at the codec's ClockRate.
type AudioDecoder interface {
	// Decode returns the packet's samples (the caller's to keep), or an
	// error for a packet it cannot decode.
	Decode(packet []byte) ([]int16, error)
	// DecodeLost returns samples standing in for a packet that never
	// came and would have held that many samples: recovered from the
	// in-band redundancy of next, the packet after it, when next is not
	// nil and carries some, else concealed.
	DecodeLost(next []byte, samples int) ([]int16, error)
	// Close frees the decoder; it is idempotent.
	Close() error
}

// ErrSkip marks a frame that decoded to no picture on purpose (a hidden
// reference frame), or a decoder already closed: not a decode error.
var ErrSkip = errors.New("no picture")

// Descriptor is one codec as p2pcam uses it. Descriptors are values: pass
// them around freely, and compare them by MimeType.
type Descriptor struct {
	// Name is the codec's short name for people: "VP8".
	Name string
	// Kind is Video or Audio.
	Kind Kind
	// MimeType, ClockRate, Channels and Fmtp are how SDP names the codec
	// (RFC 8866 §6.6 rtpmap and fmtp); Channels is 0 for video.
	MimeType  string
	ClockRate uint32
	Channels  uint16
	Fmtp      string
	// PayloadType is the RTP payload type p2pcam offers the codec under
	// (the compact blob format assumes 96 for the first video codec).
	PayloadType webrtc.PayloadType
	// DefaultSpeed is the encoder's speed knob (EncoderParams.Speed) when
	// none is given; 0 for codecs without one.
	DefaultSpeed int
	// Feedback is the RTCP feedback p2pcam answers to for this codec.
	Feedback []webrtc.RTCPFeedback

	// NewPayloader returns an RTP payloader for outgoing frames.
	NewPayloader func() rtp.Payloader
	// NewDepacketizer returns a depacketizer for incoming RTP payloads;
	// its IsPartitionHead tells where a frame starts.
	NewDepacketizer func() rtp.Depacketizer
	// IsKeyFrame reports whether an assembled frame can be decoded without
	// the frames before it. Audio frames always can.
	IsKeyFrame func(frame []byte) bool
	// FrameSize reads the picture size from a keyframe (video only; nil
	// for audio).
	FrameSize func(keyFrame []byte) (width, height int, err error)

	// ContainerID is the codec's ID in Matroska/WebM ("V_VP8"), and
	// FourCC in IVF ("VP80", empty when IVF cannot hold it).
	ContainerID string
	FourCC      string

	// Layers is how the codec's stream carries temporal layers
	// (EncoderParams.TemporalLayers); nil for codecs without them.
	Layers *Layering

	// NewVideoEncoder returns a builder for the codec's encoder, for
	// mediadevices' pipeline; nil for audio codecs. It wraps
	// ErrUnavailable in a build without the codec.
	NewVideoEncoder func(EncoderParams) (mdcodec.VideoEncoderBuilder, error)
	// EncoderStats reads the figures of an encoder this codec built, and
	// false when it reports none.
	EncoderStats func(mdcodec.EncoderController) (EncoderStats, bool)
	// NewVideoDecoder returns a decoder; nil for audio codecs. It wraps
	// ErrUnavailable in a build without the codec.
	NewVideoDecoder func() (VideoDecoder, error)

	// NewAudioEncoder returns a builder for the codec's encoder, for
	// mediadevices' pipeline; nil for video codecs. It wraps
	// ErrUnavailable in a build without the codec.
	NewAudioEncoder func(EncoderParams) (mdcodec.AudioEncoderBuilder, error)
	// NewAudioDecoder returns a decoder; nil for video codecs. It wraps
	// ErrUnavailable in a build without the codec.
	NewAudioDecoder func() (AudioDecoder, error)
	// HasFEC reports whether an audio packet carries in-band redundancy
	// for the packet before it (Opus's FEC), so that DecodeLost given it
	// recovers that packet instead of concealing it; nil for codecs
	// without such redundancy.
	HasFEC func(packet []byte) bool

	// CodecPrivate returns the bytes a Matroska/WebM track of this codec
	// stores as CodecPrivate (Opus: its OpusHead), a new slice each call;
	// nil when the codec needs none.
	CodecPrivate func() []byte
	// CodecDelay and SeekPreRoll are the Matroska track's CodecDelay
	// (audio a decoder drops at the start) and SeekPreRoll (audio it must
	// decode before a seek target); zero for codecs without them.
	CodecDelay  time.Duration
	SeekPreRoll time.Duration
}

// Capability is the codec as pion's tracks and media engine name it.
func (d Descriptor) Capability() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType:     d.MimeType,
		ClockRate:    d.ClockRate,
		Channels:     d.Channels,
		SDPFmtpLine:  d.Fmtp,
		RTCPFeedback: d.Feedback,
	}
}

// Parameters is the codec with its payload type, for a media engine.
func (d Descriptor) Parameters() webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{RTPCodecCapability: d.Capability(), PayloadType: d.PayloadType}
}

// Is reports whether d is the codec named by mimeType (case-insensitive,
// as MIME types are).
func (d Descriptor) Is(mimeType string) bool { return strings.EqualFold(d.MimeType, mimeType) }

// UnsupportedError means the other side uses a codec p2pcam has no
// descriptor for, or none of this kind.
type UnsupportedError struct {
	Kind     Kind
	MimeType string
}

func (e *UnsupportedError) Error() string {
	return "the other side sends " + e.Kind.String() + " as " + e.MimeType + ", which p2pcam cannot receive"
}
