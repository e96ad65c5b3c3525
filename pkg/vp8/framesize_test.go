package vp8

import (
	"errors"
	"testing"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// fixture320 is a VP8 stream from the repository's shared test data.
const fixture320 = "../../testdata/testsrc2-320x240-30fps-3s.ivf"

func TestFrameSize(t *testing.T) {
	frames := testutil.ReadIVF(t, fixture320)
	for _, tc := range []struct {
		name          string
		frame         []byte
		width, height int
		err           error
	}{
		{"fixture keyframe", frames[0], 320, 240, nil},
		{"fixture delta frame", frames[1], 0, 0, errNotKeyFrame},
		{"scale bits ignored", []byte{0x10, 0, 0, 0x9d, 0x01, 0x2a, 0x00, 0xc5, 0xd0, 0x42}, 1280, 720, nil},
		{"largest size", []byte{0x00, 0, 0, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f}, 16383, 16383, nil},
		{"empty", nil, 0, 0, errShortFrame},
		{"nine bytes", []byte{0x00, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0}, 0, 0, errShortFrame},
		{"bad start code", []byte{0x00, 0, 0, 0x9d, 0x01, 0x2b, 0x40, 0x01, 0xf0, 0x00}, 0, 0, errStartCode},
		{"zero width", []byte{0x00, 0, 0, 0x9d, 0x01, 0x2a, 0x00, 0xc0, 0xf0, 0x00}, 0, 0, errZeroSize},
		{"partition past the end", []byte{0x20, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}, 0, 0, errPartitionLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h, err := FrameSize(tc.frame)
			if !errors.Is(err, tc.err) || w != tc.width || h != tc.height {
				t.Errorf("FrameSize = %d, %d, %v; want %d, %d, %v", w, h, err, tc.width, tc.height, tc.err)
			}
		})
	}
}

// FuzzFrameSize checks that any input either fails or yields a
// size that agrees with the bytes it came from.
func FuzzFrameSize(f *testing.F) {
	frames := testutil.ReadIVF(f, fixture320)
	f.Add(frames[0][:64])
	f.Add(frames[1][:32])
	f.Add([]byte{0x10, 0, 0, 0x9d, 0x01, 0x2a, 0x00, 0xc5, 0xd0, 0x42})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, err := FrameSize(b)
		if err != nil {
			if w != 0 || h != 0 {
				t.Fatalf("error %v with size %dx%d", err, w, h)
			}
			return
		}
		if len(b) < 10 || !IsKeyFrame(b) || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
			t.Fatalf("accepted a non-keyframe % x", b[:min(len(b), 10)])
		}
		if w < 1 || w > 16383 || h < 1 || h > 16383 {
			t.Fatalf("size %dx%d out of range", w, h)
		}
		if w != int(b[6])|int(b[7]&0x3f)<<8 || h != int(b[8])|int(b[9]&0x3f)<<8 {
			t.Fatalf("size %dx%d does not match % x", w, h, b[6:10])
		}
	})
}
