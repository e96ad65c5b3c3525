//go:build cgo

package vp8

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

func TestRoundTripKeepsSizeAndQuality(t *testing.T) {
	tests := []struct {
		w, h    int
		bitRate int
		minPSNR float64
	}{
		{640, 480, 1_000_000, 30},
		{1280, 720, 2_500_000, 30},
		{320, 240, 500_000, 28},
		{322, 181, 500_000, 28}, // odd height, width not a multiple of 16
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.w, tt.h), func(t *testing.T) {
			s := newSource(tt.w, tt.h, 30)
			p := NewParams()
			p.BitRate = tt.bitRate
			e := newTestEncoder(t, s, p)
			d, err := NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()

			const frames = 30
			var worst = 99.0
			for i := 0; i < frames; i++ {
				fr := readFrame(t, e)
				if i == 0 && !isKey(fr) {
					t.Fatalf("first frame is not a keyframe")
				}
				img, err := d.Decode(fr)
				if err != nil {
					t.Fatalf("frame %d: Decode: %v", i, err)
				}
				if got := img.Rect.Size(); got != image.Pt(tt.w, tt.h) {
					t.Fatalf("frame %d decoded at %v, want %dx%d", i, got, tt.w, tt.h)
				}
				if i >= frames/2 { // after the rate control settles
					worst = min(worst, psnr(s.p.frame(i), img))
				}
			}
			t.Logf("%dx%d at %d bit/s: worst luma PSNR %.1f dB over frames %d..%d", tt.w, tt.h, tt.bitRate, worst, frames/2, frames-1)
			if worst < tt.minPSNR {
				t.Errorf("worst PSNR %.1f dB, want >= %.1f", worst, tt.minPSNR)
			}
		})
	}
}

func TestIVFFileIsReadByFFprobe(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	tests := []struct{ w, h, frames int }{
		{640, 480, 60},
		{1280, 720, 31},
		{322, 181, 17},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%dx%d", tt.w, tt.h)
		t.Run(name, func(t *testing.T) {
			s := newSource(tt.w, tt.h, 30)
			e := newTestEncoder(t, s, NewParams())
			var frames [][]byte
			for range tt.frames {
				frames = append(frames, readFrame(t, e))
			}
			path := filepath.Join(t.TempDir(), name+".ivf")
			if err := writeIVF(path, tt.w, tt.h, 30, frames); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
				"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v\n%s", err, out)
			}
			want := fmt.Sprintf("vp8,%d,%d,%d", tt.w, tt.h, tt.frames)
			if got := strings.TrimSpace(string(out)); got != want {
				t.Errorf("ffprobe says %q, want %q", got, want)
			}
			if _, err := exec.LookPath("ffmpeg"); err == nil {
				out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
				if err != nil || len(out) > 0 {
					t.Errorf("ffmpeg decode: %v\n%s", err, out)
				}
			}
		})
	}
}

func TestForceKeyFrameAppliesToNextFrame(t *testing.T) {
	s := newSource(320, 240, 30)
	e := newTestEncoder(t, s, NewParams())
	ctrl := e.Controller().(Controller)
	forceAt := map[int]bool{5: true, 6: true, 11: true}
	for i := 0; i < 15; i++ {
		if forceAt[i] {
			if err := ctrl.ForceKeyFrame(); err != nil {
				t.Fatal(err)
			}
		}
		fr := readFrame(t, e)
		if want := i == 0 || forceAt[i]; isKey(fr) != want {
			t.Errorf("frame %d: keyframe %v, want %v", i, isKey(fr), want)
		}
	}
	if st := ctrl.Stats(); st.KeyFrames != 4 || st.Frames != 15 {
		t.Errorf("stats: %d keyframes of %d frames, want 4 of 15", st.KeyFrames, st.Frames)
	}
}

func TestKeyFrameInterval(t *testing.T) {
	s := newSource(160, 120, 30)
	p := NewParams()
	p.KeyFrameInterval = 10
	e := newTestEncoder(t, s, p)
	var keys []int
	for i := 0; i < 25; i++ {
		if isKey(readFrame(t, e)) {
			keys = append(keys, i)
		}
	}
	if fmt.Sprint(keys) != "[0 10 20]" {
		t.Errorf("keyframes at %v, want [0 10 20]", keys)
	}
}

// encodeRate encodes n frames and returns the achieved bitrate in bits/s
// over them, taking the synthetic clock as real time.
func encodeRate(t *testing.T, e *encoder, s *source, n int) float64 {
	t.Helper()
	var bytes int
	for range n {
		bytes += len(readFrame(t, e))
	}
	return float64(bytes*8) * s.fps / float64(n)
}

func TestBitRateMatchesTarget(t *testing.T) {
	tests := []struct {
		w, h    int
		bitRate int
	}{
		{640, 480, 500_000},
		{640, 480, 2_000_000},
		{1280, 720, 2_000_000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d@%dk", tt.w, tt.h, tt.bitRate/1000), func(t *testing.T) {
			s := newSource(tt.w, tt.h, 30)
			p := NewParams()
			p.BitRate = tt.bitRate
			e := newTestEncoder(t, s, p)
			got := encodeRate(t, e, s, 300) // 10 s at 30 fps
			ratio := got / float64(tt.bitRate)
			t.Logf("target %d bit/s, achieved %.0f bit/s over 10 s (%.1f%%)", tt.bitRate, got, 100*ratio)
			if ratio < 0.85 || ratio > 1.15 {
				t.Errorf("achieved %.0f bit/s, %.1f%% of the %d target; want within 15%%", got, 100*ratio, tt.bitRate)
			}
		})
	}
}

func TestSetBitRateChangesOutputRate(t *testing.T) {
	s := newSource(640, 480, 30)
	p := NewParams()
	p.BitRate = 2_000_000
	e := newTestEncoder(t, s, p)
	ctrl := e.Controller().(Controller)

	encodeRate(t, e, s, 60) // settle
	high := encodeRate(t, e, s, 90)
	if err := ctrl.SetBitRate(400_000); err != nil {
		t.Fatal(err)
	}
	if got := ctrl.Stats().TargetBitRate; got != 400_000 {
		t.Errorf("TargetBitRate = %d, want 400000", got)
	}
	encodeRate(t, e, s, 60) // the 1 s buffer drains
	low := encodeRate(t, e, s, 90)
	t.Logf("2 Mbit/s target: %.0f bit/s; 400 kbit/s target: %.0f bit/s", high, low)
	if low > high/3 {
		t.Errorf("after SetBitRate(400k) rate is %.0f, before %.0f; want under a third", low, high)
	}
	if low < 250_000 || low > 550_000 {
		t.Errorf("rate %.0f bit/s far from the 400k target", low)
	}
}

func TestSetBitRateClamps(t *testing.T) {
	p := NewParams()
	p.MinBitRate, p.MaxBitRate = 100_000, 3_000_000
	tests := []struct{ set, want int }{
		{1, 100_000},
		{-5, 100_000},
		{0, 100_000},
		{200_000, 200_000},
		{50_000_000, 3_000_000},
	}
	s := newSource(64, 48, 30)
	e := newTestEncoder(t, s, p)
	ctrl := e.Controller().(Controller)
	for _, tt := range tests {
		if err := ctrl.SetBitRate(tt.set); err != nil {
			t.Fatal(err)
		}
		if got := ctrl.Stats().TargetBitRate; got != tt.want {
			t.Errorf("SetBitRate(%d): target %d, want %d", tt.set, got, tt.want)
		}
		readFrame(t, e) // applies it to libvpx without error
	}
}

func TestFrameSizeChangeReconfigures(t *testing.T) {
	sizes := []image.Point{{640, 480}, {320, 240}, {1280, 720}, {1280, 720}}
	e, err := newEncoder(nil, NewParams(), prop.Media{}, wallClock())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i, sz := range sizes {
		img := newPattern(sz.X, sz.Y).frame(i)
		b, release, got, err := e.encode(img, time.Duration(i)*time.Second/30)
		if err != nil || !got {
			t.Fatalf("frame %d (%v): got %v, err %v", i, sz, got, err)
		}
		wantKey := i == 0 || sz != sizes[i-1]
		if isKey(b) != wantKey {
			t.Errorf("frame %d (%v): keyframe %v, want %v", i, sz, isKey(b), wantKey)
		}
		dec, err := d.Decode(b)
		release()
		if err != nil {
			t.Fatalf("frame %d: Decode: %v", i, err)
		}
		if dec.Rect.Size() != sz {
			t.Errorf("frame %d decoded at %v, want %v", i, dec.Rect.Size(), sz)
		}
	}
	if st := e.ctrl.Stats(); st.Width != 1280 || st.Height != 720 {
		t.Errorf("stats size %dx%d, want 1280x720", st.Width, st.Height)
	}
}

func TestBadFramesAreRejected(t *testing.T) {
	good := newPattern(64, 48).frame(0)
	short := newPattern(64, 48).frame(0)
	short.Y = short.Y[:len(short.Y)-1]
	narrow := newPattern(64, 48).frame(0)
	narrow.CStride = 16
	tests := []struct {
		name string
		img  image.Image
	}{
		{"gray", image.NewGray(image.Rect(0, 0, 64, 48))},
		{"444", image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio444)},
		{"empty", image.NewYCbCr(image.Rectangle{}, image.YCbCrSubsampleRatio420)},
		{"huge", &image.YCbCr{Rect: image.Rect(0, 0, 20000, 10), SubsampleRatio: image.YCbCrSubsampleRatio420}},
		{"short luma", short},
		{"narrow chroma stride", narrow},
	}
	e, err := newEncoder(nil, NewParams(), prop.Media{}, wallClock())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := e.encode(tt.img, time.Duration(i)*time.Millisecond)
			if !errors.Is(err, ErrBadFrame) {
				t.Errorf("err = %v, want ErrBadFrame", err)
			}
		})
	}
	// The encoder is still usable afterwards.
	if _, _, got, err := e.encode(good, time.Second); err != nil || !got {
		t.Errorf("good frame after bad ones: got %v, err %v", got, err)
	}
}

// formatSource yields the pattern converted to another image type, as
// camera drivers hand out YUYV (4:2:2) or RGB frames.
type formatSource struct {
	p    *pattern
	n    int
	conv func(*image.YCbCr) image.Image
}

func (s *formatSource) Read() (image.Image, func(), error) {
	img := s.conv(s.p.frame(s.n))
	s.n++
	return img, func() {}, nil
}

func TestConvertsCameraFormats(t *testing.T) {
	to422 := func(src *image.YCbCr) image.Image {
		dst := image.NewYCbCr(src.Rect, image.YCbCrSubsampleRatio422)
		for y := 0; y < src.Rect.Dy(); y++ {
			for x := 0; x < src.Rect.Dx(); x++ {
				c := src.YCbCrAt(x, y)
				dst.Y[dst.YOffset(x, y)] = c.Y
				dst.Cb[dst.COffset(x, y)], dst.Cr[dst.COffset(x, y)] = c.Cb, c.Cr
			}
		}
		return dst
	}
	toRGBA := func(src *image.YCbCr) image.Image {
		dst := image.NewRGBA(src.Rect)
		for y := 0; y < src.Rect.Dy(); y++ {
			for x := 0; x < src.Rect.Dx(); x++ {
				dst.Set(x, y, color.RGBAModel.Convert(src.At(x, y)))
			}
		}
		return dst
	}
	tests := []struct {
		name string
		conv func(*image.YCbCr) image.Image
	}{
		{"yuv422", to422},
		{"rgba", toRGBA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &formatSource{p: newPattern(320, 240), conv: tt.conv}
			rc, err := NewParams().BuildVideoEncoder(src, prop.Media{Video: prop.Video{Width: 320, Height: 240, FrameRate: 30}})
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			d, err := NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for i := 0; i < 5; i++ {
				b, release, err := rc.Read()
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				img, err := d.Decode(b)
				release()
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if q := psnr(src.p.frame(i), img); q < 25 {
					t.Errorf("frame %d: PSNR %.1f dB after conversion, want >= 25", i, q)
				}
			}
		})
	}
}

func TestCloseIsIdempotentAndEndsRead(t *testing.T) {
	s := newSource(64, 48, 30)
	e := newTestEncoder(t, s, NewParams())
	readFrame(t, e)
	for range 2 {
		if err := e.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, _, err := e.Read(); err != io.EOF {
		t.Errorf("Read after Close: %v, want io.EOF", err)
	}
	ctrl := e.Controller().(Controller)
	if ctrl.ForceKeyFrame() != nil || ctrl.SetBitRate(1e6) != nil || ctrl.Stats().Frames != 1 {
		t.Errorf("controller after Close misbehaves: %+v", ctrl.Stats())
	}
}

func TestSourceErrorIsReturned(t *testing.T) {
	s := newSource(64, 48, 30)
	s.max = 3
	e := newTestEncoder(t, s, NewParams())
	for range 3 {
		readFrame(t, e)
	}
	if _, _, err := e.Read(); err != io.EOF {
		t.Errorf("Read at end of source: %v, want io.EOF", err)
	}
}

func TestInvalidParams(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"negative bitrate", Params{BitRate: -1}},
		{"min above max", Params{MinBitRate: 2_000_000, MaxBitRate: 1_000_000}},
		{"tiny min", Params{MinBitRate: 10}},
		{"cpu-used", Params{CPUUsed: 17}},
		{"threads", Params{Threads: 64}},
		{"keyframe interval", Params{KeyFrameInterval: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.BuildVideoEncoder(&source{}, prop.Media{})
			if !errors.Is(err, ErrInvalidParams) {
				t.Errorf("err = %v, want ErrInvalidParams", err)
			}
		})
	}
	// Zero Params mean defaults, and a bad frame size fails up front.
	if _, err := (Params{}).BuildVideoEncoder(&source{}, prop.Media{Video: prop.Video{Width: 640, Height: 0}}); !errors.Is(err, ErrBadFrame) {
		t.Errorf("640x0: err = %v, want ErrBadFrame", err)
	}
}

func TestParamsIsAVideoEncoderBuilder(t *testing.T) {
	p := NewParams()
	var b codec.VideoEncoderBuilder = &p
	if got := b.RTPCodec().MimeType; got != "video/VP8" {
		t.Errorf("MimeType = %q", got)
	}
	var _ codec.VideoEncoderBuilder = p
}

func TestControllerIsSafeDuringRead(t *testing.T) {
	s := newSource(160, 120, 30)
	e := newTestEncoder(t, s, NewParams())
	ctrl := e.Controller().(Controller)
	var _ codec.KeyFrameController = ctrl
	var _ codec.BitRateController = ctrl

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ctrl.ForceKeyFrame()
			ctrl.SetBitRate(200_000 + i%5*100_000)
			ctrl.Stats()
		}
	}()
	for range 40 {
		readFrame(t, e)
	}
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	// Read races Close: either a frame or io.EOF, never a crash.
	if _, release, err := e.Read(); err == nil {
		release()
	} else if err != io.EOF {
		t.Errorf("Read racing Close: %v", err)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	close(stop)
	wg.Wait()
}

func TestEncodeDoesNotAllocate(t *testing.T) {
	s := newSource(320, 240, 30)
	e := newTestEncoder(t, s, NewParams())
	readFrame(t, e)
	allocs := testing.AllocsPerRun(50, func() {
		_, release, err := e.Read()
		if err != nil {
			t.Fatal(err)
		}
		release()
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per frame, want 0", allocs)
	}
}

var _ video.Reader = (*source)(nil)
