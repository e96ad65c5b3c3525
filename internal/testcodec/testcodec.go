// Package testcodec is a video codec for tests only: it proves that the
// pipeline (capture, peer, and later record and session) takes any codec
// through its codec.Descriptor and names none itself.
//
// Its "encoder" compresses nothing: each frame is a 16-byte header
// (magic, flags with the keyframe bit, width, height, frame number, and a
// checksum of the picture's luma) followed by a few luma samples. Its RTP
// payload format puts one byte before each packet's part of a frame, 1 on
// the packet that starts a frame and 0 on the others; the RTP marker bit
// ends a frame.
package testcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"sync"
	"sync/atomic"

	mdcodec "github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// MimeType names the test codec in SDP.
const MimeType = "video/x-p2pcam-test"

// HeaderLen is the size of a frame's header; Samples luma bytes follow.
const (
	HeaderLen = 16
	Samples   = 32
)

const (
	magic   = 0x54 // 'T'
	keyFlag = 0x01
)

// Descriptor returns the test codec's descriptor: payload type 100, with
// NACK, PLI and TWCC feedback like a real video codec.
func Descriptor() codec.Descriptor {
	return codec.Descriptor{
		Name:        "TEST",
		Kind:        codec.Video,
		MimeType:    MimeType,
		ClockRate:   90000,
		PayloadType: 100,
		Feedback: []webrtc.RTCPFeedback{
			{Type: webrtc.TypeRTCPFBNACK},
			{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
			{Type: webrtc.TypeRTCPFBTransportCC},
		},
		NewPayloader:    func() rtp.Payloader { return payloader{} },
		NewDepacketizer: func() rtp.Depacketizer { return &depacketizer{} },
		IsKeyFrame:      IsKeyFrame,
		FrameSize:       FrameSize,
		ContainerID:     "V_P2PCAM/TEST",
		NewVideoEncoder: func(p codec.EncoderParams) (mdcodec.VideoEncoderBuilder, error) {
			return Builder{BitRate: p.BitRate}, nil
		},
		EncoderStats:    encoderStats,
		NewVideoDecoder: func() (codec.VideoDecoder, error) { return decoder{}, nil },
	}
}

// Frame is one decoded test frame header.
type Frame struct {
	Key           bool
	Width, Height int
	Number        uint32
	Checksum      uint32 // CRC-32 of the samples that follow the header
}

// ErrNotAFrame means bytes are not a test codec frame.
var ErrNotAFrame = errors.New("not a test codec frame")

// Encode builds a frame with header f over samples.
func Encode(f Frame, samples []byte) []byte {
	b := make([]byte, HeaderLen+len(samples))
	b[0] = magic
	if f.Key {
		b[1] = keyFlag
	}
	binary.BigEndian.PutUint16(b[2:], uint16(f.Width))
	binary.BigEndian.PutUint16(b[4:], uint16(f.Height))
	binary.BigEndian.PutUint32(b[6:], f.Number)
	binary.BigEndian.PutUint32(b[10:], crc32.ChecksumIEEE(samples))
	binary.BigEndian.PutUint16(b[14:], uint16(len(samples)))
	copy(b[HeaderLen:], samples)
	return b
}

// Parse reads a frame's header and checks its samples against the
// checksum: a frame that arrives intact parses.
func Parse(b []byte) (Frame, error) {
	if len(b) < HeaderLen || b[0] != magic {
		return Frame{}, ErrNotAFrame
	}
	n := int(binary.BigEndian.Uint16(b[14:]))
	if len(b) != HeaderLen+n {
		return Frame{}, fmt.Errorf("%w: %d bytes, header says %d", ErrNotAFrame, len(b), HeaderLen+n)
	}
	f := Frame{
		Key:      b[1]&keyFlag != 0,
		Width:    int(binary.BigEndian.Uint16(b[2:])),
		Height:   int(binary.BigEndian.Uint16(b[4:])),
		Number:   binary.BigEndian.Uint32(b[6:]),
		Checksum: binary.BigEndian.Uint32(b[10:]),
	}
	if crc32.ChecksumIEEE(b[HeaderLen:]) != f.Checksum {
		return Frame{}, fmt.Errorf("%w: checksum mismatch in frame %d", ErrNotAFrame, f.Number)
	}
	return f, nil
}

// IsKeyFrame reports whether frame is a test keyframe.
func IsKeyFrame(frame []byte) bool {
	return len(frame) >= HeaderLen && frame[0] == magic && frame[1]&keyFlag != 0
}

// FrameSize reads the picture size from a keyframe.
func FrameSize(frame []byte) (int, int, error) {
	f, err := Parse(frame)
	if err != nil {
		return 0, 0, err
	}
	if !f.Key {
		return 0, 0, errors.New("test codec frame is not a keyframe")
	}
	return f.Width, f.Height, nil
}

// payloader splits a frame into packets of at most mtu bytes, each led
// by its start-of-frame byte.
type payloader struct{}

func (payloader) Payload(mtu uint16, frame []byte) [][]byte {
	room := int(mtu) - 1
	if room <= 0 || len(frame) == 0 {
		return nil
	}
	var out [][]byte
	for i := 0; i < len(frame); i += room {
		end := min(i+room, len(frame))
		p := make([]byte, 1+end-i)
		if i == 0 {
			p[0] = 1
		}
		copy(p[1:], frame[i:end])
		out = append(out, p)
	}
	return out
}

// depacketizer strips the start-of-frame byte.
type depacketizer struct{}

func (*depacketizer) Unmarshal(packet []byte) ([]byte, error) {
	if len(packet) < 1 {
		return nil, errors.New("empty test codec packet")
	}
	return packet[1:], nil
}

func (*depacketizer) IsPartitionHead(payload []byte) bool { return len(payload) > 0 && payload[0] == 1 }

func (*depacketizer) IsPartitionTail(marker bool, _ []byte) bool { return marker }

// Builder is the test encoder, for mediadevices' pipeline.
type Builder struct{ BitRate int }

// RTPCodec is not used: p2pcam's tracks packetize with the descriptor.
func (Builder) RTPCodec() *mdcodec.RTPCodec { return nil }

// BuildVideoEncoder returns an encoder reading r; every 30th frame, the
// first and any asked for are keyframes.
func (b Builder) BuildVideoEncoder(r video.Reader, p prop.Media) (mdcodec.ReadCloser, error) {
	e := &encoder{r: r, w: p.Width, h: p.Height}
	e.ctl.bitRate.Store(int64(b.BitRate))
	e.ctl.forceKey.Store(true)
	return e, nil
}

// Controller is the test encoder's controller: keyframes on demand, a
// bitrate it only remembers, and frame counts.
type Controller struct {
	forceKey atomic.Bool
	bitRate  atomic.Int64
	frames   atomic.Uint64
	keys     atomic.Uint64
}

// ForceKeyFrame makes the next frame a keyframe.
func (c *Controller) ForceKeyFrame() error {
	c.forceKey.Store(true)
	return nil
}

// SetBitRate records the target.
func (c *Controller) SetBitRate(bps int) error {
	c.bitRate.Store(int64(bps))
	return nil
}

// KeyFrames counts keyframes encoded.
func (c *Controller) KeyFrames() uint64 { return c.keys.Load() }

func encoderStats(c mdcodec.EncoderController) (codec.EncoderStats, bool) {
	ctl, ok := c.(*Controller)
	if !ok {
		return codec.EncoderStats{}, false
	}
	return codec.EncoderStats{Frames: ctl.frames.Load(), TargetBitRate: int(ctl.bitRate.Load())}, true
}

type encoder struct {
	r    video.Reader
	w, h int
	ctl  Controller

	mu     sync.Mutex
	closed bool
	n      uint32
}

func (e *encoder) Read() ([]byte, func(), error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, func() {}, io.EOF
	}
	img, release, err := e.r.Read()
	if err != nil {
		return nil, func() {}, err
	}
	defer release()
	samples := make([]byte, Samples)
	if y, ok := img.(*image.YCbCr); ok {
		copy(samples, y.Y)
	}
	b := img.Bounds()
	key := e.ctl.forceKey.Swap(false) || e.n%30 == 0
	frame := Encode(Frame{Key: key, Width: b.Dx(), Height: b.Dy(), Number: e.n}, samples)
	e.n++
	e.ctl.frames.Add(1)
	if key {
		e.ctl.keys.Add(1)
	}
	return frame, func() {}, nil
}

func (e *encoder) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}

func (e *encoder) Controller() mdcodec.EncoderController { return &e.ctl }

// decoder turns a test frame into a grey picture of its size.
type decoder struct{}

func (decoder) Decode(frame []byte) (*image.YCbCr, error) {
	f, err := Parse(frame)
	if err != nil {
		return nil, err
	}
	img := image.NewYCbCr(image.Rect(0, 0, f.Width, f.Height), image.YCbCrSubsampleRatio420)
	copy(img.Y, frame[HeaderLen:])
	return img, nil
}

func (decoder) Close() error { return nil }
