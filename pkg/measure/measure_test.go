package measure

import (
	"image"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"

	"github.com/p2pcam/p2pcam/pkg/pattern"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// capture is one encoded frame of the test pattern and when it was
// captured.
type capture struct {
	data []byte
	key  bool
	at   time.Time
}

// encodePattern paints n pattern frames at 30 fps, paced in real time (the
// encoder's rate control follows the wall clock), and encodes them.
func encodePattern(t *testing.T, w, h, n, bitrate, keyAt int) []capture {
	t.Helper()
	base := time.UnixMilli(1_700_000_000_000)
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	seq := 0
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	src := video.ReaderFunc(func() (image.Image, func(), error) {
		if seq > 0 {
			<-tick.C
		}
		pattern.Paint(img, seq, base.Add(time.Duration(seq)*time.Second/30))
		seq++
		return img, func() {}, nil
	})
	p := vp8.NewParams()
	p.BitRate = bitrate
	enc, err := p.BuildVideoEncoder(src, prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out []capture
	for i := range n {
		if i == keyAt && i > 0 {
			_ = enc.Controller().(vp8.Controller).ForceKeyFrame()
		}
		data, release, err := enc.Read()
		if err != nil {
			t.Fatal(err)
		}
		// A VP8 keyframe has bit 0 of the first byte clear (RFC 6386 §9.1).
		out = append(out, capture{data: append([]byte(nil), data...), key: data[0]&1 == 0, at: base.Add(time.Duration(i) * time.Second / 30)})
		release()
	}
	return out
}

// fakeClock returns a clock the test sets before each frame.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestMeter(t *testing.T) {
	tests := []struct {
		name       string
		w, h       int
		bitrate    int
		delay      time.Duration
		keyAt      int          // a keyframe here, besides the first
		drop       map[int]bool // frame indexes never delivered
		wantLost   uint64
		wantFrozen bool
		minPSNR    float64
		maxPSNR    float64
	}{
		{name: "vga clean", w: 640, h: 480, bitrate: 1_500_000, delay: 42 * time.Millisecond, minPSNR: 30, maxPSNR: 99},
		{name: "hd clean", w: 1280, h: 720, bitrate: 2_500_000, delay: 7 * time.Millisecond, minPSNR: 30, maxPSNR: 99},
		{name: "hd starved", w: 1280, h: 720, bitrate: 60_000, delay: 120 * time.Millisecond, minPSNR: 5, maxPSNR: 99},
		// Frames 30 to 39 are lost; as the recorder does, the frames after
		// the loss are skipped until the next keyframe (45).
		{name: "vga lossy", w: 640, h: 480, bitrate: 1_500_000, delay: 20 * time.Millisecond, keyAt: 45,
			drop:     map[int]bool{30: true, 31: true, 32: true, 33: true, 34: true, 35: true, 36: true, 37: true, 38: true, 39: true},
			wantLost: 15, wantFrozen: true, minPSNR: 30, maxPSNR: 99},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			frames := encodePattern(t, tc.w, tc.h, 60, tc.bitrate, tc.keyAt)
			clk := &fakeClock{}
			m, err := New(Options{Now: clk.Now, PSNREvery: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			waitKey := false
			for i, f := range frames {
				if tc.drop[i] {
					waitKey = true
					continue
				}
				if waitKey && !f.key {
					continue
				}
				waitKey = false
				clk.now = f.at.Add(tc.delay)
				m.Frame(f.data, f.key)
			}
			got := m.Total()
			if got.LatencyP50 != tc.delay || got.LatencyMax != tc.delay {
				t.Errorf("latency p50 %v max %v; want %v", got.LatencyP50, got.LatencyMax, tc.delay)
			}
			if got.Lost != tc.wantLost {
				t.Errorf("lost %d; want %d", got.Lost, tc.wantLost)
			}
			if (got.Frozen > 0) != tc.wantFrozen {
				t.Errorf("frozen %v; want frozen: %v", got.Frozen, tc.wantFrozen)
			}
			if got.PSNR < tc.minPSNR || got.PSNR > tc.maxPSNR {
				t.Errorf("PSNR %.1f dB; want %.0f..%.0f", got.PSNR, tc.minPSNR, tc.maxPSNR)
			}
			if got.Frames != 60-got.Lost || got.Unreadable != 0 || got.DecodeErrs != 0 {
				t.Errorf("frames %d (lost %d), unreadable %d, decode errors %d", got.Frames, got.Lost, got.Unreadable, got.DecodeErrs)
			}
			t.Logf("%s: %+v", tc.name, got)
		})
	}
}

// TestPSNRFollowsQuality checks PSNR means something: starving the encoder
// costs decibels, and a frame compared with the wrong reference scores low.
func TestPSNRFollowsQuality(t *testing.T) {
	psnr := func(bitrate int) float64 {
		m, err := New(Options{PSNREvery: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for _, f := range encodePattern(t, 640, 480, 45, bitrate, 0) {
			m.Frame(f.data, f.key)
		}
		return m.Total().PSNR
	}
	good, starved := psnr(2_000_000), psnr(50_000)
	if starved > good-3 {
		t.Errorf("PSNR at 50 kbit/s %.1f dB vs %.1f dB at 2 Mbit/s: starving should cost at least 3 dB", starved, good)
	}
	t.Logf("PSNR at 640x480: %.1f dB at 2 Mbit/s, %.1f dB at 50 kbit/s", good, starved)

	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	img := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	pattern.Paint(img, 20, time.UnixMilli(5000))
	if same := m.psnr(img, 20, 5000); same != 99 {
		t.Errorf("a frame against itself: %.1f dB; want 99", same)
	}
	if wrong := m.psnr(img, 27, 5000); wrong > 25 {
		t.Errorf("a frame against the wrong reference: %.1f dB; want it low", wrong)
	}
}

func TestMeterSurvivesGarbage(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, b := range [][]byte{{}, {0x00}, {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0xff, 0xff, 0xff}, make([]byte, 1000)} {
		m.Frame(b, true)
	}
	got := m.Total()
	if got.Frames != 0 || got.DecodeErrs == 0 {
		t.Fatalf("garbage gave %+v; want decode errors and no frames", got)
	}
}

func BenchmarkFrame(b *testing.B) {
	for _, sz := range []struct{ w, h, rate int }{{640, 480, 1_500_000}, {1280, 720, 2_500_000}} {
		b.Run(image.Rect(0, 0, sz.w, sz.h).Size().String(), func(b *testing.B) {
			t := &testing.T{}
			frames := encodePattern(t, sz.w, sz.h, 30, sz.rate, 0)
			m, err := New(Options{PSNREvery: 10})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			b.ResetTimer()
			for i := range b.N {
				f := frames[i%len(frames)]
				if i%len(frames) == 0 {
					f = frames[0] // restart on the keyframe
				}
				m.Frame(f.data, f.key)
			}
		})
	}
}
