//go:build !cgo

package opus

import (
	"errors"
	"testing"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

func TestWithoutCgoConstructorsSayUnavailable(t *testing.T) {
	if _, err := Descriptor.NewAudioEncoder(codec.EncoderParams{}); !errors.Is(err, codec.ErrUnavailable) {
		t.Errorf("NewAudioEncoder: %v, want ErrUnavailable", err)
	}
	if _, err := Descriptor.NewAudioDecoder(); !errors.Is(err, codec.ErrUnavailable) {
		t.Errorf("NewAudioDecoder: %v, want ErrUnavailable", err)
	}
	if _, ok := Descriptor.EncoderStats(nil); ok {
		t.Error("EncoderStats reports figures without an encoder")
	}
}
