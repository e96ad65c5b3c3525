//go:build cgo && !nosdl

package view

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// renderText draws one line of the overlay, white on a translucent black
// box, into an RGBA image (bytes R, G, B, A: SDL's RGBA32).
func renderText(text string) *image.RGBA {
	face := basicfont.Face7x13
	const pad = 4
	d := &font.Drawer{Face: face}
	width := d.MeasureString(text).Ceil() + 2*pad
	height := face.Metrics().Height.Ceil() + 2*pad
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Rect, image.NewUniform(color.RGBA{A: 160}), image.Point{}, draw.Src)
	d.Dst, d.Src = img, image.White
	d.Dot = fixed.P(pad, pad+face.Metrics().Ascent.Ceil())
	d.DrawString(text)
	return img
}
