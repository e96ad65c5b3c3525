package capture

import (
	"context"
	"image"
	"io"
	"time"

	"github.com/p2pcam/p2pcam/pkg/pattern"
)

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
	pattern.Paint(img, s.seq, time.Now())
	s.seq++
	return img, func() {}, nil
}
