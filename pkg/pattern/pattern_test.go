package pattern

import (
	"bytes"
	"image"
	"testing"
	"time"
)

func TestPatternIsDeterministicAndMoves(t *testing.T) {
	mk := func() *image.YCbCr { return image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420) }
	a, b, c := mk(), mk(), mk()
	at := time.Unix(1_700_000_000, 0)
	Paint(a, 7, at)
	Paint(b, 7, at)
	Paint(c, 8, at)
	if !bytes.Equal(a.Y, b.Y) || !bytes.Equal(a.Cb, b.Cb) || !bytes.Equal(a.Cr, b.Cr) {
		t.Fatal("the same frame number painted two different pictures")
	}
	if bytes.Equal(a.Y, c.Y) {
		t.Fatal("consecutive frames are identical: the pattern does not move")
	}
}
