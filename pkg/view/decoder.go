package view

import (
	"errors"
	"image"
)

// errSkip marks a frame that decoded to no picture on purpose (a hidden
// reference frame), or a decoder already closed: not a decode error.
var errSkip = errors.New("no picture")

// decoder turns received frames back into pictures.
type decoder interface {
	// Decode returns the frame's picture (the caller's to keep), an error
	// wrapping errSkip when there is none to show, or another error for a
	// frame it cannot decode.
	Decode(frame []byte) (*image.YCbCr, error)
	Close() error
}
