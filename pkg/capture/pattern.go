package capture

import (
	"context"
	"image"
	"io"
	"sync"
	"time"

	"github.com/p2pcam/p2pcam/pkg/stamp"
)

// PaintPattern draws frame number seq of p2pcam's synthetic test pattern
// into img: diagonal bands scrolling sideways, a bouncing box, and a stamp
// of the frame's sequence number and the capture time (see package stamp).
// The picture depends only on seq and the size, so a receiver can rebuild
// the frame it should have got and compare (PSNR); the stamp cells are the
// one part that also depends on time.
func PaintPattern(img *image.YCbCr, seq int, capturedAt time.Time) {
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
	stamp.Write(img, stamp.Stamp{Seq: uint16(seq), Millis: uint32(capturedAt.UnixMilli())})
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

// patternSource produces the synthetic pattern at a fixed size and frame
// rate, paced by a ticker. It implements mediadevices.VideoSource.
type patternSource struct {
	w, h     int
	interval time.Duration

	ctx    context.Context
	cancel context.CancelFunc

	// Read is only ever called from one goroutine (mediadevices'
	// broadcaster); the fields below belong to it.
	ticker *time.Ticker
	seq    int
	frames [2]*image.YCbCr
}

func newPatternSource(w, h int, fps float64) *patternSource {
	ctx, cancel := context.WithCancel(context.Background())
	s := &patternSource{w: w, h: h, interval: time.Duration(float64(time.Second) / fps), ctx: ctx, cancel: cancel}
	for i := range s.frames {
		s.frames[i] = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	return s
}

// ID implements mediadevices.Source.
func (s *patternSource) ID() string { return "p2pcam-test-pattern" }

// Close makes Read return io.EOF.
func (s *patternSource) Close() error {
	s.cancel()
	return nil
}

// Read waits for the next frame time and returns the next frame. Two
// frames alternate, so the frame returned stays intact until the next
// Read after the one that follows.
func (s *patternSource) Read() (image.Image, func(), error) {
	if s.ticker == nil {
		s.ticker = time.NewTicker(s.interval)
	} else {
		select {
		case <-s.ticker.C:
		case <-s.ctx.Done():
		}
	}
	if s.ctx.Err() != nil {
		s.ticker.Stop()
		return nil, func() {}, io.EOF
	}
	img := s.frames[s.seq%2]
	PaintPattern(img, s.seq, time.Now())
	s.seq++
	return img, func() {}, nil
}
