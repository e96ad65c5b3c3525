//go:build !cgo

package measure

func newDecoder() (decoder, error) { return nil, ErrNoDecoder }
