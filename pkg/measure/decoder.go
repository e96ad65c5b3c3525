package measure

import (
	"errors"
	"image"
)

// ErrNoDecoder means this build of p2pcam has no VP8 decoder: it was built
// without cgo, so libvpx is not linked in.
var ErrNoDecoder = errors.New("no VP8 decoder in this build (it needs cgo and libvpx)")

// errSkip marks a frame that decoded to no picture on purpose (a hidden
// reference frame), or a decoder already closed: not a decode error.
var errSkip = errors.New("no picture")

// decoder turns received frames back into pictures.
type decoder interface {
	// Decode returns the frame's picture, an error wrapping errSkip when
	// there is none to show, or another error for a frame it cannot decode.
	Decode(frame []byte) (*image.YCbCr, error)
	Close() error
}
