//go:build cgo

package opus

import (
	mdcodec "github.com/pion/mediadevices/pkg/codec"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// newEncoderBuilder returns libopus's encoder with the given start
// bitrate, complexity (Speed) and expected loss (0: the defaults).
func newEncoderBuilder(p codec.EncoderParams) (mdcodec.AudioEncoderBuilder, error) {
	params := Params{BitRate: p.BitRate, Complexity: p.Speed, PacketLoss: p.PacketLoss, NoFEC: p.NoFEC}
	if _, err := params.normalized(); err != nil {
		return nil, err
	}
	return &params, nil
}

func encoderStats(c mdcodec.EncoderController) (codec.EncoderStats, bool) {
	ctl, ok := c.(Controller)
	if !ok {
		return codec.EncoderStats{}, false
	}
	s := ctl.Stats()
	return codec.EncoderStats{Frames: s.Frames, TargetBitRate: s.BitRate, EncodeCPU: s.EncodeCPU}, true
}

// audioDecoder is the Decoder as a codec.AudioDecoder.
type audioDecoder struct{ *Decoder }

func newAudioDecoder() (codec.AudioDecoder, error) {
	d, err := NewDecoder()
	if err != nil {
		return nil, err
	}
	return audioDecoder{d}, nil
}

func (d audioDecoder) DecodeLost(next []byte, samples int) ([]int16, error) {
	if next == nil {
		return d.Conceal(samples)
	}
	return d.DecodeFEC(next, samples)
}
