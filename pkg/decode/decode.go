// Package decode turns received video frames back into pictures, for the
// parts of p2pcam that look at what arrives (the --measure figures, the
// viewer window). It names no codec: New takes the codec's descriptor
// (package codec) and builds the decoder the descriptor offers. A build
// without a codec's decoder (a cgo codec built without cgo) has none, and
// New says so with ErrNoDecoder.
package decode

import (
	"errors"
	"fmt"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// ErrNoDecoder means this build of p2pcam has no decoder for the codec (it
// needs cgo and a library this build lacks). It wraps
// codec.ErrUnavailable.
var ErrNoDecoder = fmt.Errorf("no video decoder: %w", codec.ErrUnavailable)

// ErrSkip marks a frame that decoded to no picture on purpose (a hidden
// reference frame), or a decoder already closed: not a decode error. It
// is codec.ErrSkip.
var ErrSkip = codec.ErrSkip

// Decoder turns received frames back into pictures: see
// codec.VideoDecoder.
type Decoder = codec.VideoDecoder

// New returns a decoder for frames of the video codec desc. It fails with
// an error wrapping ErrNoDecoder when this build has none.
func New(desc codec.Descriptor) (Decoder, error) {
	if desc.Kind != codec.Video || desc.NewVideoDecoder == nil {
		return nil, fmt.Errorf("decode: %s is not a video codec", desc.Name)
	}
	d, err := desc.NewVideoDecoder()
	switch {
	case errors.Is(err, codec.ErrUnavailable):
		return nil, &unavailableError{err: err}
	case err != nil:
		return nil, fmt.Errorf("decode: new %s decoder: %w", desc.Name, err)
	}
	return d, nil
}

// Check reports whether this build can decode desc: nil, or New's error.
func Check(desc codec.Descriptor) error {
	d, err := New(desc)
	if err != nil {
		return err
	}
	return d.Close()
}

// unavailableError is the codec's own word on why it has no decoder here
// (what it needs), which is also ErrNoDecoder.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrNoDecoder }
