//go:build cgo

package vp8

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// Defaults used by NewParams and for zero fields of a Params.
const (
	DefaultBitRate          = 1_000_000
	DefaultMinBitRate       = 50_000
	DefaultMaxBitRate       = 20_000_000
	DefaultKeyFrameInterval = 3000
	DefaultThreads          = 1
)

// ErrInvalidParams is wrapped by errors from BuildVideoEncoder when Params
// hold a value outside its documented range.
var ErrInvalidParams = errors.New("invalid vp8 parameters")

// ErrBadFrame is wrapped by errors about input the encoder or decoder
// cannot take: a frame that is not I420 after conversion, has impossible
// dimensions or planes too short for them, or an empty or oversized
// compressed frame.
var ErrBadFrame = errors.New("bad frame")

// CodecError reports a failure inside libvpx.
type CodecError struct {
	Op     string // the libvpx call that failed, e.g. "vpx_codec_encode"
	Code   int    // its vpx_codec_err_t
	Msg    string // libvpx's text for Code
	Detail string // libvpx's error detail, if it gave one
}

func (e *CodecError) Error() string {
	s := "vp8: " + e.Op + ": " + e.Msg
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Params are the encoder settings. Zero fields take the Default* values
// above, so Params{} behaves like NewParams(). Params implements
// mediadevices' codec.VideoEncoderBuilder; it is copied when an encoder is
// built, so later changes to it do not affect running encoders.
type Params struct {
	// BitRate is the initial target in bits/s (default 1 Mbit/s). It is
	// clamped to [MinBitRate, MaxBitRate].
	BitRate int
	// MinBitRate and MaxBitRate bound BitRate and every SetBitRate
	// (defaults 50 kbit/s and 20 Mbit/s).
	MinBitRate, MaxBitRate int
	// CPUUsed is libvpx's speed setting, -16..16; negative values select
	// realtime speed |CPUUsed| with static-scene shortcuts (default -6,
	// libwebrtc's choice for desktop). 0 means the default.
	CPUUsed int
	// KeyFrameInterval is the longest run of frames between keyframes
	// (default 3000, i.e. rely on keyframe requests from the receiver).
	KeyFrameInterval int
	// Threads is libvpx's worker thread count, 1..16 (default 1).
	Threads int
	// TemporalLayers is how many temporal layers to make: 0 or 1 for
	// none, or 3: frames go in a cycle of four, layers 0 2 1 2 (7.5, 15
	// and 30 fps at 30 fps). A frame of layer n
	// references only frames of layers up to n, so a receiver sent the
	// layers up to any layer decodes them without errors (see
	// FrameLayer and Layering). A keyframe is layer 0 and restarts the
	// cycle. libvpx shares the bitrate out as libwebrtc does: 40%, 20%
	// and 40%.
	TemporalLayers int
}

// NewParams returns Params with every field set to its default.
func NewParams() Params {
	return Params{
		BitRate:          DefaultBitRate,
		MinBitRate:       DefaultMinBitRate,
		MaxBitRate:       DefaultMaxBitRate,
		CPUUsed:          DefaultCPUUsed,
		KeyFrameInterval: DefaultKeyFrameInterval,
		Threads:          DefaultThreads,
	}
}

// normalized fills zero fields with defaults and checks ranges.
func (p Params) normalized() (Params, error) {
	d := NewParams()
	if p.BitRate == 0 {
		p.BitRate = d.BitRate
	}
	if p.MinBitRate == 0 {
		p.MinBitRate = d.MinBitRate
	}
	if p.MaxBitRate == 0 {
		p.MaxBitRate = d.MaxBitRate
	}
	if p.CPUUsed == 0 {
		p.CPUUsed = d.CPUUsed
	}
	if p.KeyFrameInterval == 0 {
		p.KeyFrameInterval = d.KeyFrameInterval
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	switch {
	case p.BitRate < 0 || p.MinBitRate < 1000 || p.MaxBitRate < p.MinBitRate || p.MaxBitRate > 1_000_000_000:
		return p, fmt.Errorf("%w: bitrate %d with bounds [%d, %d] bit/s (bounds must be 1000..1e9, min <= max)",
			ErrInvalidParams, p.BitRate, p.MinBitRate, p.MaxBitRate)
	case p.CPUUsed < -16 || p.CPUUsed > 16:
		return p, fmt.Errorf("%w: cpu-used %d outside -16..16", ErrInvalidParams, p.CPUUsed)
	case p.KeyFrameInterval < 0:
		return p, fmt.Errorf("%w: keyframe interval %d is negative", ErrInvalidParams, p.KeyFrameInterval)
	case p.Threads < 0 || p.Threads > 16:
		return p, fmt.Errorf("%w: %d threads outside 1..16", ErrInvalidParams, p.Threads)
	case p.TemporalLayers != 0 && p.TemporalLayers != 1 && p.TemporalLayers != 3:
		return p, fmt.Errorf("%w: %d temporal layers (0, 1 or 3)", ErrInvalidParams, p.TemporalLayers)
	}
	p.BitRate = clamp(p.BitRate, p.MinBitRate, p.MaxBitRate)
	return p, nil
}

// RTPCodec returns VP8 with the 90 kHz clock (RFC 7741 section 6.1).
func (p Params) RTPCodec() *codec.RTPCodec {
	return codec.NewRTPVP8Codec(90000)
}

// BuildVideoEncoder returns an encoder reading frames from r, which it wraps
// with video.ToI420 so any frame format mediadevices can convert is
// accepted. m.Width and m.Height, when set, size the encoder up front (and
// so validate the configuration now); otherwise the first frame does. A
// frame of another size re-creates the libvpx context, and the first frame
// at the new size is a keyframe. m.FrameRate (default 30) sets the first
// frame's duration and the keyframe size cap; later timestamps come from a
// monotonic clock relative to the first frame.
//
// The returned encoder's Read must be called from one goroutine at a time;
// Close and the Controller's methods may be called from any goroutine.
// Read returns io.EOF after Close. Read's release func hands the returned
// buffer back for reuse; call it at most once, and not before you are done
// with the bytes. Not calling it is safe but costs an allocation per frame.
func (p Params) BuildVideoEncoder(r video.Reader, m prop.Media) (codec.ReadCloser, error) {
	return newEncoder(video.ToI420(r), p, m, wallClock())
}

// Stats are cumulative figures for one encoder, from its creation.
type Stats struct {
	Frames    uint64 // frames encoded and returned by Read
	KeyFrames uint64 // how many of them are keyframes
	Dropped   uint64 // frames libvpx's rate control skipped (no output)
	Bytes     uint64 // compressed bytes returned by Read

	// EncodeCPU is the CPU time of the calling thread inside
	// vpx_codec_encode, summed over all frames; with Threads > 1 libvpx's
	// worker threads are not counted. EncodeWall is the wall time there.
	// Divide by Frames+Dropped for a per-frame figure.
	EncodeCPU, EncodeWall time.Duration

	// TargetBitRate is the bitrate (bits/s) last requested, after
	// clamping; it takes effect on the next frame.
	TargetBitRate int
	// Width and Height are the size of the last frame encoded (0 before
	// the first).
	Width, Height int
}

// Controller is what an encoder's Controller() returns: mediadevices'
// keyframe and bitrate controls plus live statistics. All its methods are
// safe to call from any goroutine, also after Close.
type Controller interface {
	// ForceKeyFrame makes the next frame encoded a keyframe. It never fails.
	codec.KeyFrameController
	// SetBitRate sets the target bitrate in bits/s, clamped to the
	// Params' [MinBitRate, MaxBitRate]; it applies from the next frame and
	// never fails.
	codec.BitRateController
	// Stats returns a consistent snapshot of the encoder's counters.
	Stats() Stats
}

func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}
