//go:build cgo

package vp8

import (
	"fmt"
	"testing"
)

// BenchmarkDecode decodes a 30-frame stream of the moving pattern (one
// keyframe, then interframes) over and over, one frame per iteration, at
// the encoder benchmark's sizes and bitrates.
func BenchmarkDecode(b *testing.B) {
	for _, sz := range benchSizes[:2] {
		b.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(b *testing.B) {
			s := newSource(sz.w, sz.h, 30)
			p := NewParams()
			p.BitRate = sz.bitRate
			e := newTestEncoder(b, s, p)
			stream := make([][]byte, 30)
			total := 0
			for i := range stream {
				stream[i] = readFrame(b, e)
				total += len(stream[i])
			}
			d, err := NewDecoder()
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			b.SetBytes(int64(total / len(stream)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := d.Decode(stream[i%len(stream)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeKeepsNoGoPointer: libvpx holds on to the input pointer after
// vpx_codec_decode returns, so Decode copies each frame into a C buffer the
// decoder owns. Feeding the stream through one Go slice that is scribbled
// over after every call must decode exactly as fresh slices do, and the C
// buffer must have room for the largest frame so far without shrinking.
func TestDecodeKeepsNoGoPointer(t *testing.T) {
	small := encodeStream(t, 64, 48, 6)
	big := encodeStream(t, 320, 240, 3)
	tests := []struct {
		name   string
		stream [][]byte
	}{
		{"one size", small},
		{"grows at a larger keyframe", append(append([][]byte{}, small[:3]...), big...)},
		{"shrinks at a smaller keyframe", append(append([][]byte{}, big...), small...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			got, err := NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			var reused []byte
			largest, lastCap := 0, 0
			for i, fr := range tt.stream {
				wimg, err := want.Decode(append([]byte(nil), fr...))
				if err != nil {
					t.Fatalf("frame %d, fresh slice: %v", i, err)
				}
				reused = append(reused[:0], fr...)
				gimg, err := got.Decode(reused)
				if err != nil {
					t.Fatalf("frame %d, reused slice: %v", i, err)
				}
				for j := range reused {
					reused[j] = 0xa5
				}
				if gimg.Rect != wimg.Rect || string(gimg.Y) != string(wimg.Y) || string(gimg.Cb) != string(wimg.Cb) || string(gimg.Cr) != string(wimg.Cr) {
					t.Fatalf("frame %d decodes differently from a reused, overwritten input slice", i)
				}
				largest = max(largest, len(fr))
				c := got.c.bufCap()
				if c < largest || c < lastCap {
					t.Fatalf("frame %d: C buffer holds %d bytes after %d (largest frame %d)", i, c, lastCap, largest)
				}
				lastCap = c
			}
		})
	}
}
