package capture

import (
	"fmt"
	"image"
)

// errShortFrame means a raw frame held fewer bytes than its format and
// size need (a buffer the driver cut short); it is dropped like a corrupt
// JPEG.
var errShortFrame = fmt.Errorf("short frame")

// rawToI420 converts one raw frame of format (I420, NV12, NV21, YUYV,
// UYVY) and size w x h into dst, a 4:2:0 picture of that size.
func rawToI420(format string, b []byte, w, h int, dst *image.YCbCr) error {
	cw, ch := (w+1)/2, (h+1)/2
	need := w*h + 2*cw*ch
	if format == "YUYV" || format == "UYVY" {
		need = 2 * w * h
	}
	if len(b) < need {
		return fmt.Errorf("%w: %d bytes, %s %dx%d needs %d", errShortFrame, len(b), format, w, h, need)
	}
	switch format {
	case "I420":
		for y := range h {
			copy(dst.Y[y*dst.YStride:y*dst.YStride+w], b[y*w:])
		}
		u, v := b[w*h:], b[w*h+cw*ch:]
		for y := range ch {
			copy(dst.Cb[y*dst.CStride:y*dst.CStride+cw], u[y*cw:])
			copy(dst.Cr[y*dst.CStride:y*dst.CStride+cw], v[y*cw:])
		}
	case "NV12", "NV21":
		for y := range h {
			copy(dst.Y[y*dst.YStride:y*dst.YStride+w], b[y*w:])
		}
		uv := b[w*h:]
		cb, cr := dst.Cb, dst.Cr
		if format == "NV21" {
			cb, cr = cr, cb
		}
		for y := range ch {
			row := uv[y*2*cw : y*2*cw+2*cw]
			ub, vb := cb[y*dst.CStride:], cr[y*dst.CStride:]
			for x := range cw {
				ub[x], vb[x] = row[2*x], row[2*x+1]
			}
		}
	case "YUYV", "UYVY":
		yo, uo, vo := 0, 1, 3
		if format == "UYVY" {
			yo, uo, vo = 1, 0, 2
		}
		for y := range h {
			row := b[y*2*w : y*2*w+2*w]
			yr := dst.Y[y*dst.YStride:]
			for x := range w {
				yr[x] = row[2*x+yo]
			}
			if y%2 != 0 {
				continue
			}
			// Chroma from this row and the next (the last pairs with itself).
			next := row
			if y+1 < h {
				next = b[(y+1)*2*w : (y+1)*2*w+2*w]
			}
			ub, vb := dst.Cb[(y/2)*dst.CStride:], dst.Cr[(y/2)*dst.CStride:]
			for x := range cw {
				i := 4 * x
				if i+vo >= len(row) {
					i = len(row) - 4
				}
				ub[x] = uint8((int(row[i+uo]) + int(next[i+uo]) + 1) >> 1)
				vb[x] = uint8((int(row[i+vo]) + int(next[i+vo]) + 1) >> 1)
			}
		}
	default:
		return fmt.Errorf("capture: no conversion from %s", format)
	}
	return nil
}
