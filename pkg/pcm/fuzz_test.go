package pcm

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeWAV feeds arbitrary bytes to DecodeWAV: it must return
// samples or one of its errors, never crash, and samples only with a
// header that adds up.
func FuzzDecodeWAV(f *testing.F) {
	f.Add(wavFile(wavPCM, 2, 44100, 16, le16(1, 2, 3, 4), nil, -1))
	f.Add(wavFile(wavExtensible, 1, 8000, 16, le16(1, 2, 3), []byte("LIST\x01\x00\x00\x00x\x00"), 0xffffffff))
	f.Add(wavFile(wavPCM, 1, 48000, 16, le16(1), nil, 9))
	f.Fuzz(func(t *testing.T, file []byte) {
		samples, info, err := DecodeWAV(bytes.NewReader(file))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrNotPCM16) && !errors.Is(err, ErrTruncated) {
				t.Fatalf("error %v wraps none of the package's errors", err)
			}
			return
		}
		if info.Channels < 1 || info.SampleRate < 1 {
			t.Fatalf("samples from a header saying %+v", info)
		}
		if len(samples) != info.Frames {
			t.Fatalf("%d samples from %+v", len(samples), info)
		}
	})
}
