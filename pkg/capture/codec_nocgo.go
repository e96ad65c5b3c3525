//go:build !cgo

package capture

import "github.com/pion/mediadevices/pkg/codec"

// newEncoder fails: without cgo there is no libvpx.
func newEncoder(int, int) (codec.VideoEncoderBuilder, error) { return nil, ErrNoEncoder }

func encoderStats(codec.EncoderController) (EncoderStats, bool) { return EncoderStats{}, false }
