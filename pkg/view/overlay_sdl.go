//go:build cgo && !nosdl

package view

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// renderText draws the overlay's lines, white on a translucent black
// box, into an RGBA image (bytes R, G, B, A: SDL's RGBA32).
func renderText(text string) *image.RGBA {
	face := basicfont.Face7x13
	const pad = 4
	lines := strings.Split(text, "\n")
	d := &font.Drawer{Face: face}
	width := 0
	for _, l := range lines {
		width = max(width, d.MeasureString(l).Ceil())
	}
	lineH := face.Metrics().Height.Ceil()
	img := image.NewRGBA(image.Rect(0, 0, width+2*pad, lineH*len(lines)+2*pad))
	draw.Draw(img, img.Rect, image.NewUniform(color.RGBA{A: 160}), image.Point{}, draw.Src)
	d.Dst, d.Src = img, image.White
	for i, l := range lines {
		d.Dot = fixed.P(pad, pad+i*lineH+face.Metrics().Ascent.Ceil())
		d.DrawString(l)
	}
	return img
}
