package record

import "errors"

// Errors of parseKeyFrameHeader. They stay unexported: a bad frame is
// counted and dropped, never returned to the caller.
var (
	errShortFrame   = errors.New("vp8 frame shorter than a keyframe header")
	errNotKeyFrame  = errors.New("vp8 frame is not a keyframe")
	errStartCode    = errors.New("vp8 keyframe start code missing")
	errZeroSize     = errors.New("vp8 keyframe has zero width or height")
	errPartitionLen = errors.New("vp8 first partition exceeds the frame")
)

// keyFrameHeaderLen is the size of the uncompressed chunk that opens a VP8
// keyframe (RFC 6386 section 9.1): a 3-byte frame tag, the start code
// 9d 01 2a and two 16-bit little-endian fields holding the 14-bit width and
// height with a 2-bit scale each.
const keyFrameHeaderLen = 10

// isKeyFrame reports whether frame starts with a VP8 frame tag whose
// frame-type bit says keyframe (RFC 6386 section 9.1: 0 means keyframe).
func isKeyFrame(frame []byte) bool {
	return len(frame) > 0 && frame[0]&0x01 == 0
}

// parseKeyFrameHeader reads the frame size from a VP8 keyframe. It checks
// the frame type, the start code, that the first partition fits in frame
// and that both dimensions are non-zero; the scaling bits are ignored.
func parseKeyFrameHeader(frame []byte) (width, height int, err error) {
	if len(frame) < keyFrameHeaderLen {
		return 0, 0, errShortFrame
	}
	if !isKeyFrame(frame) {
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
