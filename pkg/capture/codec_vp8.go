//go:build cgo

package capture

import (
	"github.com/pion/mediadevices/pkg/codec"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// newEncoder returns p2pcam's libvpx VP8 encoder at the given ceiling and
// speed (0: DefaultCPUUsed).
func newEncoder(bitrate, cpuUsed int) (codec.VideoEncoderBuilder, error) {
	p := vp8.NewParams()
	if bitrate > 0 {
		p.BitRate = bitrate
	}
	p.CPUUsed = DefaultCPUUsed
	if cpuUsed != 0 {
		p.CPUUsed = cpuUsed
	}
	return p, nil
}

func encoderStats(c codec.EncoderController) (EncoderStats, bool) {
	ctl, ok := c.(vp8.Controller)
	if !ok {
		return EncoderStats{}, false
	}
	s := ctl.Stats()
	return EncoderStats{Frames: s.Frames, Dropped: s.Dropped, EncodeCPU: s.EncodeCPU, TargetBitRate: s.TargetBitRate}, true
}
