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
