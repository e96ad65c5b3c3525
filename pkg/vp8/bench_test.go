//go:build cgo

package vp8

import (
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/prop"
)

// benchSizes are the sizes benchmarked, with a realistic bitrate for each.
var benchSizes = []struct {
	w, h    int
	bitRate int
}{
	{320, 240, 500_000},
	{640, 480, 1_000_000},
	{1280, 720, 2_500_000},
	{1920, 1080, 4_000_000},
}

// BenchmarkEncode encodes the moving pattern at 30 fps-equivalent
// timestamps (as fast as possible) and reports libvpx's CPU time per frame
// (thread CPU clock inside vpx_codec_encode, so drawing the pattern is not
// counted), wall time per frame and the bitrate achieved.
func BenchmarkEncode(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(b *testing.B) {
			p := NewParams()
			p.BitRate = sz.bitRate
			e, err := newEncoder(nil, p, prop.Media{Video: prop.Video{Width: sz.w, Height: sz.h, FrameRate: 30}}, wallClock())
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			pat := newPattern(sz.w, sz.h)
			img := image.NewYCbCr(image.Rect(0, 0, sz.w, sz.h), image.YCbCrSubsampleRatio420)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				pat.render(i, img)
				_, release, _, err := e.encode(img, time.Duration(i)*time.Second/30)
				if err != nil {
					b.Fatal(err)
				}
				release()
			}
			st := e.ctrl.Stats()
			n := float64(st.Frames + st.Dropped)
			b.ReportMetric(float64(st.EncodeCPU.Microseconds())/1000/n, "cpu-ms/frame")
			b.ReportMetric(float64(st.EncodeWall.Microseconds())/1000/n, "wall-ms/frame")
			b.ReportMetric(float64(st.Bytes)*8*30/n/1000, "kbit/s")
		})
	}
}
