//go:build cgo

package decode

import (
	"errors"
	"fmt"
	"image"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// Available says whether this build has a decoder.
const Available = true

// vp8Decoder is libvpx's decoder with its "nothing to show" errors mapped
// to ErrSkip.
type vp8Decoder struct{ *vp8.Decoder }

// New returns a VP8 decoder.
func New() (Decoder, error) {
	d, err := vp8.NewDecoder()
	if err != nil {
		return nil, err
	}
	return vp8Decoder{d}, nil
}

func (d vp8Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	img, err := d.Decoder.Decode(frame)
	if errors.Is(err, vp8.ErrNoFrame) || errors.Is(err, vp8.ErrClosed) {
		return nil, fmt.Errorf("%w: %w", ErrSkip, err)
	}
	return img, err
}
