//go:build cgo

package view

import (
	"errors"
	"fmt"
	"image"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

const haveDecoder = true

// vp8Decoder is libvpx's decoder with its "nothing to show" errors mapped
// to errSkip.
type vp8Decoder struct{ *vp8.Decoder }

func newDecoder() (decoder, error) {
	d, err := vp8.NewDecoder()
	if err != nil {
		return nil, err
	}
	return vp8Decoder{d}, nil
}

func (d vp8Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	img, err := d.Decoder.Decode(frame)
	if errors.Is(err, vp8.ErrNoFrame) || errors.Is(err, vp8.ErrClosed) {
		return nil, fmt.Errorf("%w: %w", errSkip, err)
	}
	return img, err
}
