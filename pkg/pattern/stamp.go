// Package pattern is p2pcam's synthetic test picture: a moving pattern
// that depends only on the frame number, with each frame's sequence number
// and capture time stamped into the picture itself. The synthetic source
// paints it; the receiver's --measure mode reads the stamps back after the
// video was compressed, sent and decoded, to measure glass-to-glass latency
// and lost frames without any side channel, and repaints the expected
// frame to measure picture quality (PSNR).
//
// The stamp is a row of 16x16-pixel cells along the top of the luma plane,
// one bit per cell (black 0, white 1), aligned to VP8's macroblocks so that
// compression blurs cells but never mixes them: 16 bits of sequence number,
// 32 bits of milliseconds and an 8-bit check, 56 cells in all, wrapping onto
// further rows on narrow pictures.
package pattern

import (
	"image"
)

// Cell is the side of one stamp cell in pixels.
const Cell = 16

const bits = 56

// Stamp is what travels in a frame.
type Stamp struct {
	// Seq is the frame's sequence number, modulo 65536.
	Seq uint16
	// Millis is the capture time in Unix milliseconds, modulo 2^32.
	Millis uint32
}

// Rows returns how many 16-pixel rows of cells a stamp needs in a picture
// of the given width, or 0 when the picture is too small to carry one.
func Rows(width, height int) int {
	perRow := width / Cell
	if perRow == 0 {
		return 0
	}
	rows := (bits + perRow - 1) / perRow
	if rows*Cell > height {
		return 0
	}
	return rows
}

func (s Stamp) word() uint64 {
	w := uint64(s.Seq)<<40 | uint64(s.Millis)<<8
	return w | uint64(check(w))
}

// check is a small checksum over the 48 payload bits so that a misread is
// reported as unreadable rather than as a wrong time.
func check(w uint64) uint8 {
	var c uint8 = 0x5a
	for i := 8; i < 56; i += 8 {
		c = c*31 + uint8(w>>uint(i))
	}
	return c
}

// Write paints s into the top rows of img's luma plane. It does nothing
// when the picture is too small (see Rows).
func Write(img *image.YCbCr, s Stamp) {
	b := img.Rect
	rows := Rows(b.Dx(), b.Dy())
	if rows == 0 {
		return
	}
	perRow := b.Dx() / Cell
	w := s.word()
	for i := range bits {
		v := byte(16)
		if w>>(bits-1-uint(i))&1 == 1 {
			v = 235
		}
		cx, cy := (i%perRow)*Cell, (i/perRow)*Cell
		for y := cy; y < cy+Cell; y++ {
			row := img.Y[y*img.YStride+cx : y*img.YStride+cx+Cell]
			for x := range row {
				row[x] = v
			}
		}
	}
}

// Read recovers the stamp from a decoded picture. ok is false when no
// stamp could be read (too small, or the check failed).
func Read(img *image.YCbCr) (s Stamp, ok bool) {
	b := img.Rect
	rows := Rows(b.Dx(), b.Dy())
	if rows == 0 {
		return Stamp{}, false
	}
	perRow := b.Dx() / Cell
	var w uint64
	for i := range bits {
		cx, cy := (i%perRow)*Cell, (i/perRow)*Cell
		// Average the middle of the cell, away from blurred edges.
		sum := 0
		for y := cy + 4; y < cy+Cell-4; y++ {
			for x := cx + 4; x < cx+Cell-4; x++ {
				sum += int(img.Y[y*img.YStride+x])
			}
		}
		w <<= 1
		if sum/64 > 125 {
			w |= 1
		}
	}
	if uint8(w) != check(w) {
		return Stamp{}, false
	}
	return Stamp{Seq: uint16(w >> 40), Millis: uint32(w >> 8)}, true
}
