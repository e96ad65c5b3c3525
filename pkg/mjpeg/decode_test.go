//go:build cgo

package mjpeg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// ffmpegI420 decodes the JPEG at path with ffmpeg into video-range I420
// planes (yuv420p: ffmpeg maps JPEG's full range as Decode does).
func ffmpegI420(t *testing.T, path string) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-pix_fmt", "yuv420p", "-f", "rawvideo", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v", path, err)
	}
	return out
}

// psnr compares plane p (w x h, stride) with the packed plane q.
func psnr(p []byte, stride int, q []byte, w, h int) float64 {
	var se float64
	for y := range h {
		for x := range w {
			d := float64(p[y*stride+x]) - float64(q[y*w+x])
			se += d * d
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(w*h)/se)
}

// TestDecodeMatchesFFmpeg decodes the fixtures, each chroma layout a
// camera may send and a frame without Huffman tables, and compares the
// I420 planes with ffmpeg's decode of the same file.
func TestDecodeMatchesFFmpeg(t *testing.T) {
	testutil.NeedFFmpeg(t)
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		path     string
		wantY    float64 // minimum PSNR, dB
		wantC    float64
		sameFile string // decode this file with ffmpeg instead (it cannot read a frame without tables)
	}{
		{path: "testdata/testsrc2-420.jpg", wantY: 45, wantC: 45},
		{path: "testdata/testsrc2-422.jpg", wantY: 45, wantC: 40},
		{path: "testdata/testsrc2-422-nodht.jpg", wantY: 45, wantC: 40, sameFile: "testdata/testsrc2-422.jpg"},
		{path: "testdata/testsrc2-444.jpg", wantY: 45, wantC: 35},
	}
	var reuse *image.YCbCr
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			b, err := os.ReadFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			img, err := d.Decode(b, reuse)
			if err != nil {
				t.Fatal(err)
			}
			reuse = img
			ref := tt.path
			if tt.sameFile != "" {
				ref = tt.sameFile
			}
			want := ffmpegI420(t, ref)
			w, h := img.Rect.Dx(), img.Rect.Dy()
			cw, ch := (w+1)/2, (h+1)/2
			if len(want) != w*h+2*cw*ch {
				t.Fatalf("ffmpeg gave %d bytes, want %dx%d I420", len(want), w, h)
			}
			if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
				t.Fatalf("subsampling %v, want 4:2:0", img.SubsampleRatio)
			}
			py := psnr(img.Y, img.YStride, want[:w*h], w, h)
			pu := psnr(img.Cb, img.CStride, want[w*h:w*h+cw*ch], cw, ch)
			pv := psnr(img.Cr, img.CStride, want[w*h+cw*ch:], cw, ch)
			t.Logf("%dx%d PSNR against ffmpeg: Y %.1f Cb %.1f Cr %.1f dB", w, h, py, pu, pv)
			if py < tt.wantY || pu < tt.wantC || pv < tt.wantC {
				t.Fatalf("PSNR Y %.1f Cb %.1f Cr %.1f, want at least %.0f / %.0f dB", py, pu, pv, tt.wantY, tt.wantC)
			}
		})
	}
}

// TestDecodeOddSizesAndGrey compares with Go's image/jpeg on frames it
// wrote: an odd width (chroma planes round up), one-component JPEGs, and
// an odd height, which is refused (see Decode).
func TestDecodeOddSizesAndGrey(t *testing.T) {
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const w, h = 161, 120
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	grey := image.NewGray(rgba.Rect)
	for y := range h {
		for x := range w {
			rgba.Set(x, y, color.RGBA{uint8(x), uint8(y * 2), uint8(x + y), 255})
			grey.Set(x, y, color.Gray{uint8(x + y)})
		}
	}
	for name, src := range map[string]image.Image{"colour 4:2:0": rgba, "grey": grey} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
				t.Fatal(err)
			}
			ref, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			img, err := d.Decode(buf.Bytes(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if img.Rect.Dx() != w || img.Rect.Dy() != h {
				t.Fatalf("size %v, want %dx%d", img.Rect, w, h)
			}
			cw, ch := (w+1)/2, (h+1)/2
			var wantY, wantCb, wantCr []byte
			switch r := ref.(type) {
			case *image.YCbCr:
				wantY = packed(r.Y, r.YStride, w, h)
				wantCb, wantCr = packed(r.Cb, r.CStride, cw, ch), packed(r.Cr, r.CStride, cw, ch)
			case *image.Gray:
				wantY = packed(r.Pix, r.Stride, w, h)
				wantCb, wantCr = bytes.Repeat([]byte{128}, cw*ch), bytes.Repeat([]byte{128}, cw*ch)
			default:
				t.Fatalf("Go decoded to %T", ref)
			}
			videoRange(wantY, false)
			videoRange(wantCb, true)
			videoRange(wantCr, true)
			py := psnr(img.Y, img.YStride, wantY, w, h)
			pu := psnr(img.Cb, img.CStride, wantCb, cw, ch)
			pv := psnr(img.Cr, img.CStride, wantCr, cw, ch)
			t.Logf("PSNR against image/jpeg: Y %.1f Cb %.1f Cr %.1f dB", py, pu, pv)
			if py < 40 || pu < 40 || pv < 40 {
				t.Fatalf("PSNR Y %.1f Cb %.1f Cr %.1f, want at least 40 dB", py, pu, pv)
			}
		})
	}
}

func TestDecodeOddHeightRefused(t *testing.T) {
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 160, 121)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decode(buf.Bytes(), nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("odd height: %v, want ErrUnsupported", err)
	}
}

// videoRange maps full-range samples to video range (Go's image/jpeg
// keeps JPEG's full range), rounding to nearest.
func videoRange(p []byte, chroma bool) {
	for i, v := range p {
		if chroma {
			p[i] = uint8(math.Round(128 + (float64(v)-128)*224/255))
		} else {
			p[i] = uint8(math.Round(16 + float64(v)*219/255))
		}
	}
}

func packed(p []byte, stride, w, h int) []byte {
	out := make([]byte, 0, w*h)
	for y := range h {
		out = append(out, p[y*stride:y*stride+w]...)
	}
	return out
}

// TestDecodeCorrupt: damaged frames are ErrCorrupt, never a half picture
// or a crash, and the decoder keeps decoding good frames after them.
func TestDecodeCorrupt(t *testing.T) {
	good := readFixture(t, "testsrc2-422-nodht.jpg")
	sos, _, _ := scanHeader(good)
	garbled := bytes.Clone(good)
	for i := sos + 200; i < len(garbled)-2; i += 97 {
		garbled[i] = 0xFF // markers where entropy-coded data should be
	}
	tests := map[string][]byte{
		"empty":               nil,
		"not a JPEG":          []byte("not a jpeg at all, not even close"),
		"headers only":        good[:sos+14],
		"truncated at half":   good[:len(good)/2],
		"truncated near end":  good[:len(good)-40],
		"garbled scan":        garbled,
		"zeros after headers": append(bytes.Clone(good[:sos+14]), make([]byte, 4000)...),
	}
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			img, err := d.Decode(b, nil)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode = %v, %v; want ErrCorrupt", img != nil, err)
			}
			if _, err := d.Decode(good, nil); err != nil {
				t.Fatalf("good frame after a bad one: %v", err)
			}
		})
	}
}

func TestDecodeAfterClose(t *testing.T) {
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close()
	if _, err := d.Decode(readFixture(t, "testsrc2-420.jpg"), nil); err == nil {
		t.Fatal("Decode after Close succeeded")
	}
}

func ExampleDecoder() {
	d, err := NewDecoder()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	frame, _ := os.ReadFile("testdata/testsrc2-422-nodht.jpg")
	img, err := d.Decode(frame, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Rect.Dx(), img.Rect.Dy(), img.SubsampleRatio)
	// Output: 320 240 YCbCrSubsampleRatio420
}
