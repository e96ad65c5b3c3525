package pattern

import (
	"image"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		s    Stamp
	}{
		{"vga", 640, 480, Stamp{Seq: 1, Millis: 123456789}},
		{"hd", 1280, 720, Stamp{Seq: 65535, Millis: 0xffffffff}},
		{"narrow wraps rows", 160, 120, Stamp{Seq: 4242, Millis: 77}},
		{"zero", 320, 240, Stamp{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := image.NewYCbCr(image.Rect(0, 0, tc.w, tc.h), image.YCbCrSubsampleRatio420)
			for i := range img.Y {
				img.Y[i] = byte(i * 7)
			}
			Write(img, tc.s)
			got, ok := Read(img)
			if !ok || got != tc.s {
				t.Fatalf("Read = %+v, %v; want %+v", got, ok, tc.s)
			}
		})
	}
}

func TestReadRejectsNoise(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	Write(img, Stamp{Seq: 9, Millis: 99})
	// Flip one cell: the check must catch it.
	for y := 0; y < Cell; y++ {
		for x := 0; x < Cell; x++ {
			img.Y[y*img.YStride+x] ^= 0xff
		}
	}
	if s, ok := Read(img); ok {
		t.Fatalf("Read accepted a damaged stamp: %+v", s)
	}
}

func TestTooSmall(t *testing.T) {
	if Rows(8, 8) != 0 {
		t.Fatal("an 8x8 picture cannot carry a stamp")
	}
	img := image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420)
	Write(img, Stamp{Seq: 1})
	if _, ok := Read(img); ok {
		t.Fatal("Read found a stamp in a picture too small for one")
	}
}
