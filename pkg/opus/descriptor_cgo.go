//go:build cgo

package opus

import (
	"time"

	mdcodec "github.com/pion/mediadevices/pkg/codec"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// newEncoderBuilder returns libopus's encoder with the given start
// bitrate, complexity (Speed) and expected loss (0: the defaults).
func newEncoderBuilder(p codec.EncoderParams) (mdcodec.AudioEncoderBuilder, error) {
	params := Params{BitRate: p.BitRate, Complexity: p.Speed, PacketLoss: p.PacketLoss}
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
	st := codec.EncoderStats{Frames: s.Frames, TargetBitRate: s.BitRate}
	setNanos(&st.EncodeCPU, s.EncodeCPU)
	return st, true
}

// setNanos stores d in a field that counts nanoseconds, whether it is
// declared int64 or time.Duration.
func setNanos[T ~int64](dst *T, d time.Duration) { *dst = T(d) }

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
