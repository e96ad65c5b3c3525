package view

import "image"

// letterbox returns where a w×h picture goes in an ow×oh output: as large
// as fits with its aspect kept, centred, black bars on the other sides.
func letterbox(w, h, ow, oh int32) image.Rectangle {
	if w <= 0 || h <= 0 || ow <= 0 || oh <= 0 {
		return image.Rectangle{}
	}
	dw, dh := ow, int32(int64(ow)*int64(h)/int64(w))
	if dh > oh {
		dw, dh = int32(int64(oh)*int64(w)/int64(h)), oh
	}
	x, y := (ow-dw)/2, (oh-dh)/2
	return image.Rect(int(x), int(y), int(x+dw), int(y+dh))
}
