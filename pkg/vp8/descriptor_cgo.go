//go:build cgo

package vp8

import (
	"errors"
	"fmt"
	"image"

	mdcodec "github.com/pion/mediadevices/pkg/codec"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// newEncoderBuilder returns libvpx's encoder at the given start bitrate
// and speed (0: the defaults).
func newEncoderBuilder(p codec.EncoderParams) (mdcodec.VideoEncoderBuilder, error) {
	params := NewParams()
	if p.BitRate > 0 {
		params.BitRate = p.BitRate
	}
	if p.Speed != 0 {
		params.CPUUsed = p.Speed
	}
	params.TemporalLayers = p.TemporalLayers
	return params, nil
}

func encoderStats(c mdcodec.EncoderController) (codec.EncoderStats, bool) {
	ctl, ok := c.(Controller)
	if !ok {
		return codec.EncoderStats{}, false
	}
	s := ctl.Stats()
	return codec.EncoderStats{Frames: s.Frames, Dropped: s.Dropped, EncodeCPU: s.EncodeCPU, TargetBitRate: s.TargetBitRate}, true
}

// videoDecoder is libvpx's decoder with its "nothing to show" errors
// mapped to codec.ErrSkip.
type videoDecoder struct{ *Decoder }

func newVideoDecoder() (codec.VideoDecoder, error) {
	d, err := NewDecoder()
	if err != nil {
		return nil, err
	}
	return videoDecoder{d}, nil
}

func (d videoDecoder) Decode(frame []byte) (*image.YCbCr, error) {
	img, err := d.Decoder.Decode(frame)
	if errors.Is(err, ErrNoFrame) || errors.Is(err, ErrClosed) {
		return nil, fmt.Errorf("%w: %w", codec.ErrSkip, err)
	}
	return img, err
}
