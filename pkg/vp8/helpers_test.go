//go:build cgo

package vp8

import (
	"encoding/binary"
	"image"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// pattern generates a camera-like moving test sequence: a detailed texture
// panning back and forth, a checkered box moving across it, and a little
// sensor noise that changes every frame. Frame i is the same on every run.
type pattern struct {
	w, h  int
	texW  int
	texY  []byte // (w+pan) x (h+pan) luma texture
	texCb []byte // chroma textures, half resolution
	texCr []byte
	noise []int8 // per-frame windows into this give temporal noise
}

const pan = 96 // pixels the texture can shift in each direction

func newPattern(w, h int) *pattern {
	p := &pattern{w: w, h: h, texW: w + pan}
	th := h + pan
	p.texY = make([]byte, p.texW*th)
	for y := 0; y < th; y++ {
		for x := 0; x < p.texW; x++ {
			v := 128 + 50*math.Sin(float64(x)/13)*math.Cos(float64(y)/19)
			v += 30 * math.Sin(float64(x*x+y*y)/4000)
			if x%64 < 2 || y%48 < 2 {
				v = 235
			}
			v += float64(hash(x, y)%25) - 12 // fixed fine detail
			p.texY[y*p.texW+x] = sat(int(v))
		}
	}
	cw, ch := (p.texW+1)/2, (th+1)/2
	p.texCb = make([]byte, cw*ch)
	p.texCr = make([]byte, cw*ch)
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			p.texCb[y*cw+x] = sat(128 + int(40*math.Sin(float64(x)/31)))
			p.texCr[y*cw+x] = sat(128 + int(40*math.Cos(float64(y)/23)))
		}
	}
	p.noise = make([]int8, w*h+1<<16)
	for i := range p.noise {
		p.noise[i] = int8(hash(i, 7)%5) - 2
	}
	return p
}

func hash(x, y int) uint32 {
	h := uint32(x)*0x9e3779b1 ^ uint32(y)*0x85ebca77
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return h
}

func sat(v int) byte {
	return byte(max(0, min(255, v)))
}

// tri is a triangle wave: 0..n..0 with period 2n.
func tri(i, n int) int {
	if n <= 0 {
		return 0
	}
	i %= 2 * n
	if i > n {
		return 2*n - i
	}
	return i
}

// frame renders frame i into a new I420 image.
func (p *pattern) frame(i int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, p.w, p.h), image.YCbCrSubsampleRatio420)
	p.render(i, img)
	return img
}

// render draws frame i into img, which must be p's size and I420.
func (p *pattern) render(i int, img *image.YCbCr) {
	ox, oy := tri(i*3, pan), tri(i*2, pan)
	noise := p.noise[(i*7919)%(1<<16):]
	for y := 0; y < p.h; y++ {
		src := p.texY[(y+oy)*p.texW+ox:]
		dst := img.Y[y*img.YStride : y*img.YStride+p.w]
		nz := noise[y*p.w:]
		for x := range dst {
			dst[x] = sat(int(src[x]) + int(nz[x]))
		}
	}
	cw, ch := (p.w+1)/2, (p.h+1)/2
	tcw := (p.texW + 1) / 2
	for y := 0; y < ch; y++ {
		copy(img.Cb[y*img.CStride:y*img.CStride+cw], p.texCb[(y+oy/2)*tcw+ox/2:])
		copy(img.Cr[y*img.CStride:y*img.CStride+cw], p.texCr[(y+oy/2)*tcw+ox/2:])
	}
	// A checkered box a fifth of the frame wide, bouncing around.
	bw, bh := min(max(p.w/5, 8), p.w), min(max(p.h/5, 8), p.h)
	bx, by := tri(i*5, p.w-bw), tri(i*4, p.h-bh)
	for y := by; y < by+bh; y++ {
		for x := bx; x < bx+bw; x++ {
			v := byte(40)
			if ((x-bx)/8+(y-by)/8)%2 == 0 {
				v = 220
			}
			img.Y[y*img.YStride+x] = v
		}
	}
}

// source is a video.Reader over the pattern that also drives a synthetic
// clock: frame n is stamped n/fps seconds after frame 0.
type source struct {
	p   *pattern
	n   int // frames handed out
	max int // stop with io.EOF after this many (0: never)
	fps float64
	img *image.YCbCr
}

func newSource(w, h int, fps float64) *source {
	return &source{p: newPattern(w, h), fps: fps, img: image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)}
}

func (s *source) Read() (image.Image, func(), error) {
	if s.max > 0 && s.n >= s.max {
		return nil, nil, io.EOF
	}
	s.p.render(s.n, s.img)
	s.n++
	return s.img, func() {}, nil
}

func (s *source) clock() clock {
	return func() time.Duration {
		return time.Duration(float64(s.n-1) * float64(time.Second) / s.fps)
	}
}

// newTestEncoder builds an encoder over s with its synthetic clock.
func newTestEncoder(t testing.TB, s *source, p Params) *encoder {
	t.Helper()
	e, err := newEncoder(video.ToI420(s), p, prop.Media{Video: prop.Video{Width: s.p.w, Height: s.p.h, FrameRate: float32(s.fps)}}, s.clock())
	if err != nil {
		t.Fatalf("newEncoder: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// readFrame reads one encoded frame and returns a copy of it.
func readFrame(t testing.TB, e *encoder) []byte {
	t.Helper()
	b, release, err := e.Read()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	out := append([]byte(nil), b...)
	release()
	return out
}

func isKey(frame []byte) bool {
	return len(frame) > 0 && frame[0]&1 == 0
}

// psnr is the luma PSNR of b against a, in dB.
func psnr(a, b *image.YCbCr) float64 {
	var sum float64
	w, h := a.Rect.Dx(), a.Rect.Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := float64(a.Y[y*a.YStride+x]) - float64(b.Y[y*b.YStride+x])
			sum += d * d
		}
	}
	mse := sum / float64(w*h)
	if mse == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/mse)
}

// writeIVF writes frames as an IVF file (32-byte header, then a 12-byte
// header per frame) with a 1/fps timebase.
func writeIVF(path string, w, h, fps int, frames [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	hdr := make([]byte, 32)
	copy(hdr, "DKIF")
	binary.LittleEndian.PutUint16(hdr[4:], 0)
	binary.LittleEndian.PutUint16(hdr[6:], 32)
	copy(hdr[8:], "VP80")
	binary.LittleEndian.PutUint16(hdr[12:], uint16(w))
	binary.LittleEndian.PutUint16(hdr[14:], uint16(h))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(fps))
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], uint32(len(frames)))
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return err
	}
	fh := make([]byte, 12)
	for i, fr := range frames {
		binary.LittleEndian.PutUint32(fh, uint32(len(fr)))
		binary.LittleEndian.PutUint64(fh[4:], uint64(i))
		if _, err := f.Write(fh); err != nil {
			f.Close()
			return err
		}
		if _, err := f.Write(fr); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
