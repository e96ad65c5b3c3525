//go:build cgo

package vp8

import (
	"errors"
	"fmt"
	"image"
	"sync"
)

// maxDecodeDim bounds the frame size a Decoder accepts, so a corrupt or
// hostile keyframe header cannot make libvpx allocate gigabytes. 4096
// covers 4K UHD.
const maxDecodeDim = 4096

// ErrNoFrame is returned by Decode for a frame that decoded correctly but
// is not meant to be shown (VP8 hidden reference frames).
var ErrNoFrame = errors.New("vp8: frame decoded but not shown")

// Decoder turns VP8 frames (one RTP-depacketized frame or IVF frame each)
// back into images. Its methods are safe for concurrent use, though frames
// must be fed in stream order.
type Decoder struct {
	mu sync.Mutex
	c  *cDecoder
}

// NewDecoder returns a Decoder; Close it to free the libvpx context.
func NewDecoder() (*Decoder, error) {
	c, err := newCDecoder()
	if err != nil {
		return nil, err
	}
	return &Decoder{c: c}, nil
}

// Decode decodes one compressed frame and returns a newly allocated I420
// image the caller owns. Corrupt input yields an error (a *CodecError from
// libvpx, or one wrapping ErrBadFrame for empty input or a keyframe larger
// than 4096 pixels a side); the decoder stays usable, and decoding resumes
// correctly at the next keyframe. After Close it returns ErrClosed.
func (d *Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	if len(frame) == 0 {
		return nil, fmt.Errorf("vp8: empty frame: %w", ErrBadFrame)
	}
	if w, h, ok := keyFrameSize(frame); ok && (w > maxDecodeDim || h > maxDecodeDim) {
		return nil, fmt.Errorf("vp8: keyframe size %dx%d over the %d limit: %w", w, h, maxDecodeDim, ErrBadFrame)
	}
	if len(frame) > 1<<30 {
		return nil, fmt.Errorf("vp8: %d-byte frame too large: %w", len(frame), ErrBadFrame)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		return nil, ErrClosed
	}
	img, err := d.c.decode(frame)
	if err != nil {
		return nil, err
	}
	if img == nil {
		return nil, ErrNoFrame
	}
	return img, nil
}

// ErrClosed is returned by Decode after Close.
var ErrClosed = errors.New("vp8: decoder closed")

// Close frees the libvpx context. It is idempotent.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		d.c.close()
		d.c = nil
	}
	return nil
}

// keyFrameSize reads the dimensions from a VP8 keyframe header (RFC 6386
// section 9.1): a 3-byte frame tag whose low bit is 0 for keyframes, the
// start code 9d 01 2a, then 14-bit width and height.
func keyFrameSize(b []byte) (w, h int, ok bool) {
	if len(b) < 10 || b[0]&1 != 0 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		return 0, 0, false
	}
	w = int(b[6]) | int(b[7]&0x3f)<<8
	h = int(b[8]) | int(b[9]&0x3f)<<8
	return w, h, true
}
