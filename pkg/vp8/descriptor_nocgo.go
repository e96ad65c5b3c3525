//go:build !cgo

package vp8

import (
	"fmt"

	mdcodec "github.com/pion/mediadevices/pkg/codec"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// errNoLibvpx says why this build has neither encoder nor decoder.
var errNoLibvpx = fmt.Errorf("%w: VP8 needs cgo and libvpx", codec.ErrUnavailable)

func newEncoderBuilder(codec.EncoderParams) (mdcodec.VideoEncoderBuilder, error) {
	return nil, errNoLibvpx
}

func encoderStats(mdcodec.EncoderController) (codec.EncoderStats, bool) {
	return codec.EncoderStats{}, false
}

func newVideoDecoder() (codec.VideoDecoder, error) { return nil, errNoLibvpx }
