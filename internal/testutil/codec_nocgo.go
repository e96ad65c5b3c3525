//go:build !cgo

package testutil

const haveCodec = false
