//go:build !cgo

package decode

// Available says whether this build has a decoder.
const Available = false

// New returns ErrNoDecoder: this build has no libvpx.
func New() (Decoder, error) { return nil, ErrNoDecoder }
