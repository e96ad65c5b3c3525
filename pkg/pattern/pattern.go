package pattern

import (
	"image"
	"sync"
	"time"
)

// Paint draws frame number seq of p2pcam's synthetic test pattern
// into img: diagonal bands scrolling sideways, a bouncing box, and a stamp
// of the frame's sequence number and the capture time (see Write).
// The picture depends only on seq and the size, so a receiver can rebuild
// the frame it should have got and compare (PSNR); the stamp cells are the
// one part that also depends on time.
func Paint(img *image.YCbCr, seq int, capturedAt time.Time) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		fillBand(img.Y[y*img.YStride:y*img.YStride+w], 2*y+6*seq)
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := range ch {
		cb := img.Cb[y*img.CStride : y*img.CStride+cw]
		cr := img.Cr[y*img.CStride : y*img.CStride+cw]
		fillBand(cb, y+seq)
		for x := range cr {
			cr[x] = 128 + (cb[x]-128)/4
			cb[x] = 128 - (cb[x]-128)/4
		}
	}
	// A box a sixth of the picture bouncing around.
	bw, bh := max(w/6, 2), max(h/6, 2)
	bx := bounce(seq*5, w-bw)
	by := bounce(seq*3, h-bh)
	for y := by; y < by+bh; y++ {
		row := img.Y[y*img.YStride+bx : y*img.YStride+bx+bw]
		for x := range row {
			row[x] = 200
		}
	}
	Write(img, Stamp{Seq: uint16(seq), Millis: uint32(capturedAt.UnixMilli())})
}

// bounce maps t to 0..span and back, like a ball between two walls.
func bounce(t, span int) int {
	if span <= 0 {
		return 0
	}
	t %= 2 * span
	if t > span {
		return 2*span - t
	}
	return t
}

// band is two periods of a smooth triangle wave with period 512.
var band = sync.OnceValue(func() []byte {
	b := make([]byte, 1024)
	for i := range b {
		v := i % 512
		if v >= 256 {
			v = 511 - v
		}
		b[i] = byte(32 + v*192/256)
	}
	return b
})

// fillBand fills row with the triangle wave starting at phase off, a few
// copies per row rather than a computation per pixel.
func fillBand(row []byte, off int) {
	b := band()
	for x := 0; x < len(row); {
		x += copy(row[x:], b[(off+x)%512:])
	}
}
