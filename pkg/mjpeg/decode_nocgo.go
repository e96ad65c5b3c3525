//go:build !cgo

package mjpeg

import "image"

// Decoder decodes JPEG frames; without cgo there is none to build.
type Decoder struct{}

// NewDecoder returns ErrNoDecoder: this build has no libjpeg-turbo.
func NewDecoder() (*Decoder, error) { return nil, ErrNoDecoder }

// Header returns ErrNoDecoder.
func (d *Decoder) Header([]byte) (w, h int, err error) { return 0, 0, ErrNoDecoder }

// Decode returns ErrNoDecoder.
func (d *Decoder) Decode([]byte, *image.YCbCr) (*image.YCbCr, error) { return nil, ErrNoDecoder }

// Close does nothing.
func (d *Decoder) Close() error { return nil }
