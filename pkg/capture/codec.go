package capture

import (
	"errors"
	"fmt"

	mdcodec "github.com/pion/mediadevices/pkg/codec"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// ErrNoEncoder means this build of p2pcam has no encoder for the codec
// asked for (a cgo codec in a build without cgo). The error returned
// wraps codec.ErrUnavailable too, with the codec's own reason.
var ErrNoEncoder = errors.New("no video encoder in this build")

// errNoCodec means Options named no codec.
var errNoCodec = errors.New("capture: no video codec given (Options.Codec)")

// newEncoder builds desc's encoder at the given ceiling and speed (0: the
// codec's defaults), with temporal layers when desc has them.
func newEncoder(desc codec.Descriptor, bitrate, speed, layers int) (mdcodec.VideoEncoderBuilder, error) {
	if desc.NewVideoEncoder == nil {
		return nil, fmt.Errorf("%w: %s has no video encoder", ErrNoEncoder, desc.Name)
	}
	if desc.Layers == nil {
		layers = 0
	}
	b, err := desc.NewVideoEncoder(codec.EncoderParams{BitRate: bitrate, Speed: speed, TemporalLayers: layers})
	if err != nil {
		if errors.Is(err, codec.ErrUnavailable) {
			return nil, fmt.Errorf("%w: %w", ErrNoEncoder, err)
		}
		return nil, fmt.Errorf("build %s encoder: %w", desc.Name, err)
	}
	return b, nil
}

// EncoderStats returns the encoder's figures, and false when the encoder
// does not report any (the codec's descriptor reads them).
func (t *Track) EncoderStats() (codec.EncoderStats, bool) {
	if t.codec.EncoderStats == nil {
		return codec.EncoderStats{}, false
	}
	c := t.Encoder()
	if c == nil {
		return codec.EncoderStats{}, false
	}
	return t.codec.EncoderStats(c)
}
