// Package vp8 is p2pcam's video encoder: it sits between the camera (a
// mediadevices video.Reader) and the RTP packetizer, compressing frames to
// VP8 with libvpx (through cgo) configured for realtime, constant-bitrate,
// low-latency camera streaming the way libwebrtc configures it. A Decoder
// for tests and quality measurement is included.
//
// Descriptor presents both to the rest of p2pcam (package codec); it
// exists in every build, and its constructors fail with
// codec.ErrUnavailable in a build without cgo.
//
// Params plugs into mediadevices as a codec.VideoEncoderBuilder:
//
//	params := vp8.NewParams()
//	params.BitRate = 2_000_000
//	sel := mediadevices.NewCodecSelector(mediadevices.WithVideoEncoders(&params))
//
// The encoder's controller (track.EncoderController()) implements
// Controller: keyframe requests, bitrate changes and live statistics.
//
// With Params.TemporalLayers set to 3 the encoder makes temporal layers
// (7.5, 15 and 30 fps), and LayerPayloader and LayerFilter carry them in
// RTP so one stream can be thinned for each receiver (layers.go).
package vp8

import (
	"errors"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// DefaultCPUUsed is libvpx's speed unless told otherwise: realtime speed 6
// with static-scene shortcuts, libwebrtc's choice for desktops.
const DefaultCPUUsed = -6

// Descriptor is VP8 as p2pcam carries it: RTP payload format RFC 7741,
// payload type 96, with generic NACK and PLI (RFC 4585 §6.2, §6.3.1), FIR
// (RFC 5104 §4.3.1) and transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01).
var Descriptor = codec.Descriptor{
	Name:         "VP8",
	Kind:         codec.Video,
	MimeType:     webrtc.MimeTypeVP8,
	ClockRate:    90000,
	PayloadType:  96,
	DefaultSpeed: DefaultCPUUsed,
	Feedback: []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBNACK},
		{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
		{Type: webrtc.TypeRTCPFBTransportCC},
	},
	NewPayloader:    func() rtp.Payloader { return &codecs.VP8Payloader{EnablePictureID: true} },
	NewDepacketizer: func() rtp.Depacketizer { return &codecs.VP8Packet{} },
	IsKeyFrame:      IsKeyFrame,
	FrameSize:       FrameSize,
	ContainerID:     "V_VP8",
	FourCC:          "VP80",
	NewVideoEncoder: newEncoderBuilder,
	EncoderStats:    encoderStats,
	NewVideoDecoder: newVideoDecoder,
	Layers:          layering(),
}

// Errors of FrameSize.
var (
	errShortFrame   = errors.New("vp8 frame shorter than a keyframe header")
	errNotKeyFrame  = errors.New("vp8 frame is not a keyframe")
	errStartCode    = errors.New("vp8 keyframe start code missing")
	errZeroSize     = errors.New("vp8 keyframe has zero width or height")
	errPartitionLen = errors.New("vp8 first partition exceeds the frame")
)

// keyFrameHeaderLen is the size of the uncompressed chunk that opens a VP8
// keyframe (RFC 6386 §9.1): a 3-byte frame tag, the start code 9d 01 2a
// and two 16-bit little-endian fields holding the 14-bit width and height
// with a 2-bit scale each.
const keyFrameHeaderLen = 10

// IsKeyFrame reports whether frame starts with a VP8 frame tag whose
// frame-type bit says keyframe (RFC 6386 §9.1: 0 means keyframe).
func IsKeyFrame(frame []byte) bool {
	return len(frame) > 0 && frame[0]&0x01 == 0
}

// FrameSize reads the picture size from a VP8 keyframe. It checks the
// frame type, the start code, that the first partition fits in frame and
// that both dimensions are non-zero; the scaling bits are ignored.
func FrameSize(frame []byte) (width, height int, err error) {
	if len(frame) < keyFrameHeaderLen {
		return 0, 0, errShortFrame
	}
	if !IsKeyFrame(frame) {
		return 0, 0, errNotKeyFrame
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0, errStartCode
	}
	// The frame tag's top 19 bits are the first partition's size, which
	// follows the 10-byte header.
	firstPart := (int(frame[0]) | int(frame[1])<<8 | int(frame[2])<<16) >> 5
	if firstPart > len(frame)-keyFrameHeaderLen {
		return 0, 0, errPartitionLen
	}
	width = (int(frame[6]) | int(frame[7])<<8) & 0x3fff
	height = (int(frame[8]) | int(frame[9])<<8) & 0x3fff
	if width == 0 || height == 0 {
		return 0, 0, errZeroSize
	}
	return width, height, nil
}
