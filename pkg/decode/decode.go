// Package decode turns received VP8 frames back into pictures, for the
// parts of p2pcam that look at what arrives (the --measure figures, the
// viewer window). The decoder is libvpx's and needs cgo: a build without
// it has none, and New says so with ErrNoDecoder.
package decode

import (
	"errors"
	"image"
)

// ErrNoDecoder means this build of p2pcam has no VP8 decoder: it was built
// without cgo, so libvpx is not linked in.
var ErrNoDecoder = errors.New("no VP8 decoder in this build (it needs cgo and libvpx)")

// ErrSkip marks a frame that decoded to no picture on purpose (a hidden
// reference frame), or a decoder already closed: not a decode error.
var ErrSkip = errors.New("no picture")

// Decoder turns received frames back into pictures.
type Decoder interface {
	// Decode returns the frame's picture (the caller's to keep), an error
	// wrapping ErrSkip when there is none to show, or another error for a
	// frame it cannot decode.
	Decode(frame []byte) (*image.YCbCr, error)
	Close() error
}
