//go:build !cgo

package opus

import (
	"fmt"

	mdcodec "github.com/pion/mediadevices/pkg/codec"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// errNoLibopus says why this build has neither encoder nor decoder.
var errNoLibopus = fmt.Errorf("%w: Opus needs cgo and libopus", codec.ErrUnavailable)

func newEncoderBuilder(codec.EncoderParams) (mdcodec.AudioEncoderBuilder, error) {
	return nil, errNoLibopus
}

func encoderStats(mdcodec.EncoderController) (codec.EncoderStats, bool) {
	return codec.EncoderStats{}, false
}

func newAudioDecoder() (codec.AudioDecoder, error) { return nil, errNoLibopus }
