//go:build !cgo

package view

const haveDecoder = false

func newDecoder() (decoder, error) { return nil, ErrNoDecoder }
