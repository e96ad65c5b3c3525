package capture

import (
	"errors"
	"image"
	"testing"
)

func TestRawToI420(t *testing.T) {
	const w, h = 4, 2
	// Y = 10..17; chroma per format so that Cb = 100, 101 and Cr = 200, 201.
	i420 := []byte{10, 11, 12, 13, 14, 15, 16, 17, 100, 101, 200, 201}
	nv12 := []byte{10, 11, 12, 13, 14, 15, 16, 17, 100, 200, 101, 201}
	nv21 := []byte{10, 11, 12, 13, 14, 15, 16, 17, 200, 100, 201, 101}
	// YUYV rows: Y0 U Y1 V; row 1's chroma is 2 higher, averaged with row 0's.
	yuyv := []byte{10, 99, 11, 199, 12, 100, 13, 200, 14, 101, 15, 201, 16, 102, 17, 202}
	uyvy := []byte{99, 10, 199, 11, 100, 12, 200, 13, 101, 14, 201, 15, 102, 16, 202, 17}
	for _, tt := range []struct {
		format string
		in     []byte
	}{{"I420", i420}, {"NV12", nv12}, {"NV21", nv21}, {"YUYV", yuyv}, {"UYVY", uyvy}} {
		t.Run(tt.format, func(t *testing.T) {
			dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
			if err := rawToI420(tt.format, tt.in, w, h, dst); err != nil {
				t.Fatal(err)
			}
			if string(dst.Y) != string([]byte{10, 11, 12, 13, 14, 15, 16, 17}) ||
				dst.Cb[0] != 100 || dst.Cb[1] != 101 || dst.Cr[0] != 200 || dst.Cr[1] != 201 {
				t.Fatalf("Y %v Cb %v Cr %v", dst.Y, dst.Cb, dst.Cr)
			}
			if err := rawToI420(tt.format, tt.in[:len(tt.in)-1], w, h, dst); !errors.Is(err, errShortFrame) {
				t.Fatalf("short frame: %v", err)
			}
		})
	}
}
