package capture

import (
	"errors"
	"time"
)

// ErrNoEncoder means this build of p2pcam has no video encoder: it was
// built without cgo, so libvpx is not linked in.
var ErrNoEncoder = errors.New("no VP8 encoder in this build (it needs cgo and libvpx)")

// DefaultCPUUsed is libvpx's speed setting unless told otherwise: the
// fastest setting that still gives a clean 720p picture at 30 fps on one
// core (see the README's figures).
const DefaultCPUUsed = -6

// EncoderStats are the encoder's running figures.
type EncoderStats struct {
	Frames    uint64        // frames encoded
	Dropped   uint64        // frames the rate control skipped
	EncodeCPU time.Duration // CPU time spent encoding, over Frames+Dropped
	// TargetBitRate is the bitrate (bits/s) the encoder aims at now.
	TargetBitRate int
}

// EncoderStats returns the encoder's figures, and false when the encoder
// does not report any.
func (t *Track) EncoderStats() (EncoderStats, bool) {
	return encoderStats(t.Encoder())
}
