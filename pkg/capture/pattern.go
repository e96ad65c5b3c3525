package capture

import (
	"image"
	"io"
	"time"

	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// patternSource produces the synthetic pattern at a fixed size and frame
// rate. It implements mediadevices.VideoSource.
type patternSource struct {
	w, h int
	pace pacer

	// Read is only ever called from one goroutine; the fields below
	// belong to it.
	seq    int
	frames [2]*image.YCbCr
}

func newPatternSource(w, h int, fps float64) *patternSource {
	s := &patternSource{w: w, h: h, pace: newPacer(time.Duration(float64(time.Second) / fps))}
	for i := range s.frames {
		s.frames[i] = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	return s
}

// ID implements mediadevices.Source.
func (s *patternSource) ID() string { return "p2pcam-test-pattern" }

// Close makes Read return io.EOF.
func (s *patternSource) Close() error {
	s.pace.close()
	return nil
}

// Read waits for the next frame time and returns the next frame. Two
// frames alternate, so the frame returned stays intact until the next
// Read after the one that follows.
func (s *patternSource) Read() (image.Image, func(), error) {
	if !s.pace.wait() {
		return nil, func() {}, io.EOF
	}
	img := s.frames[s.seq%2]
	pattern.Paint(img, s.seq, time.Now())
	s.seq++
	return img, func() {}, nil
}
