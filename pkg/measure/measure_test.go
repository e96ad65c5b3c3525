//go:build cgo

package measure

import (
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"

	"github.com/p2pcam/p2pcam/pkg/pattern"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// base is the capture time of every clip's frame 0: one second before the
// stamp's 32-bit millisecond counter wraps, so every clip longer than 30
// frames crosses the wrap, and frames 27 to 29 are decoded after it.
var base = time.UnixMilli(396<<32 - 1000)

// clip describes a test sequence: n frames of the test pattern at 30 fps,
// painted with sequence numbers firstSeq, firstSeq+1, ... and encoded by
// p2pcam's VP8 encoder at the given bitrate.
type clip struct {
	w, h, n  int
	bitrate  int
	keyAt    int  // a forced keyframe here, besides the first
	firstSeq int  // sequence number of frame 0
	damage   bool // invert one stamp cell so no stamp reads back
}

// frame is one encoded frame of a clip and when it was captured.
type frame struct {
	data []byte
	key  bool
	at   time.Time
}

// at is when frame i of any clip was captured.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Second / 30) }

type encoded struct {
	once   sync.Once
	frames []frame
	err    error
}

// clips caches encoded clips across tests: encoding runs in real time.
var clips sync.Map // clip -> *encoded

// encode returns c's frames, encoding them on first use. Frames are fed
// to the encoder at 30 fps in real time, because its rate control reads
// the wall clock: faster input would starve every frame of bits. Nothing
// is asserted about time.
func encode(tb testing.TB, c clip) []frame {
	tb.Helper()
	v, _ := clips.LoadOrStore(c, &encoded{})
	e := v.(*encoded)
	e.once.Do(func() { e.frames, e.err = encodeNow(c) })
	if e.err != nil {
		tb.Fatalf("encode %+v: %v", c, e.err)
	}
	return e.frames
}

func encodeNow(c clip) ([]frame, error) {
	img := image.NewYCbCr(image.Rect(0, 0, c.w, c.h), image.YCbCrSubsampleRatio420)
	i := 0
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	src := video.ReaderFunc(func() (image.Image, func(), error) {
		if i >= c.n {
			return nil, func() {}, io.EOF
		}
		if i > 0 {
			<-tick.C
		}
		pattern.Paint(img, c.firstSeq+i, at(i))
		if c.damage {
			for y := range pattern.Cell {
				for x := range pattern.Cell {
					img.Y[y*img.YStride+x] ^= 0xff
				}
			}
		}
		i++
		return img, func() {}, nil
	})
	p := vp8.NewParams()
	p.BitRate = c.bitrate
	enc, err := p.BuildVideoEncoder(src, prop.Media{Video: prop.Video{Width: c.w, Height: c.h, FrameRate: 30}})
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	out := make([]frame, 0, c.n)
	for len(out) < c.n {
		if len(out) == c.keyAt && c.keyAt > 0 {
			if err := enc.Controller().(vp8.Controller).ForceKeyFrame(); err != nil {
				return nil, err
			}
		}
		data, release, err := enc.Read()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the encoder skipped %d of %d frames", c.n-len(out), c.n)
		}
		if err != nil {
			return nil, err
		}
		// A VP8 keyframe has bit 0 of its first byte clear (RFC 6386 §9.1).
		out = append(out, frame{data: append([]byte(nil), data...), key: data[0]&1 == 0, at: at(i - 1)})
		release()
	}
	return out, nil
}

// fakeClock is a clock the test sets before each frame.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func newMeter(t *testing.T, opts Options) *Meter {
	t.Helper()
	opts.Codec = vp8.Descriptor
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

const ms = time.Millisecond

// near reports whether a and b are within a millisecond.
func near(a, b time.Duration) bool { return (a - b).Abs() <= ms }

func TestStampsSurviveCompression(t *testing.T) {
	tests := []struct {
		name  string
		clip  clip
		delay time.Duration
	}{
		{"320x240 at 300 kbit/s", clip{w: 320, h: 240, n: 45, bitrate: 300_000}, 3 * ms},
		{"640x480 at 1.5 Mbit/s", clip{w: 640, h: 480, n: 45, bitrate: 1_500_000}, 42 * ms},
		{"1280x720 at 2.5 Mbit/s", clip{w: 1280, h: 720, n: 45, bitrate: 2_500_000}, 120 * ms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			frames := encode(t, tc.clip)
			clk := &fakeClock{}
			m := newMeter(t, Options{Now: clk.Now})
			for _, f := range frames {
				clk.now = f.at.Add(tc.delay)
				m.Frame(f.data, f.key)
			}
			for _, got := range []Figures{m.Total(), m.Recent()} {
				want := Figures{Frames: uint64(tc.clip.n), LatencyP50: tc.delay, LatencyP95: tc.delay, LatencyMax: tc.delay, PSNR: got.PSNR}
				if got != want {
					t.Errorf("figures %+v; want %+v", got, want)
				}
				if got.PSNR < 30 || got.PSNR > 99 {
					t.Errorf("PSNR %.1f dB; want 30..99", got.PSNR)
				}
			}
			t.Logf("%+v", m.Total())
		})
	}
}

// TestLossAndFreeze replays one clip as a receiver would see it through
// various mishaps. Like the recorder, the test stops delivering after a
// lost frame until the next keyframe (45).
func TestLossAndFreeze(t *testing.T) {
	// Sequence numbers wrap from 65535 to 0 at frame 35.
	c := clip{w: 640, h: 480, n: 60, bitrate: 1_500_000, keyAt: 45, firstSeq: 65536 - 35}
	tests := []struct {
		name   string
		window int
		drop   []int         // frames never delivered
		jitter func(int) int // extra ms of delay for frame i
		want   Figures
		recent [3]time.Duration // Recent's p50, p95, max
	}{
		{
			name: "clean",
			want: Figures{Frames: 60, LatencyP50: 20 * ms, LatencyP95: 20 * ms, LatencyMax: 20 * ms},
		},
		{
			// 16 frame intervals pass between frames 29 and 45.
			name: "ten frames lost across the sequence wrap",
			drop: []int{30, 31, 32, 33, 34, 35, 36, 37, 38, 39},
			want: Figures{Frames: 45, Lost: 15, Frozen: 16 * time.Second / 30, LatencyP50: 20 * ms, LatencyP95: 20 * ms, LatencyMax: 20 * ms},
		},
		{
			// Frame 40 arrives 400 ms late, and so does everything after it.
			name: "stall", window: 20,
			jitter: func(i int) int { return 400 * b2i(i >= 40) },
			want:   Figures{Frames: 60, Frozen: 400*ms + time.Second/30, LatencyP50: 20 * ms, LatencyP95: 420 * ms, LatencyMax: 420 * ms},
			recent: [3]time.Duration{420 * ms, 420 * ms, 420 * ms},
		},
		{
			// A 133 ms gap is under the 183 ms a freeze needs at 30 fps.
			name:   "hiccup under the freeze threshold",
			jitter: func(i int) int { return 100 * b2i(i >= 40) },
			want:   Figures{Frames: 60, LatencyP50: 20 * ms, LatencyP95: 120 * ms, LatencyMax: 120 * ms},
		},
		{
			// Latencies 20..39 ms, each thrice: p50 is the 30th of 60 sorted
			// values, p95 the 57th.
			name:   "jitter",
			jitter: func(i int) int { return i % 20 },
			want:   Figures{Frames: 60, LatencyP50: 29 * ms, LatencyP95: 38 * ms, LatencyMax: 39 * ms},
		},
	}
	frames := encode(t, c)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{}
			m := newMeter(t, Options{Now: clk.Now, Window: tc.window, PSNREvery: 1})
			drop := make(map[int]bool)
			for _, i := range tc.drop {
				drop[i] = true
			}
			waitKey := false
			for i, f := range frames {
				if drop[i] {
					waitKey = true
					continue
				}
				if waitKey && !f.key {
					continue
				}
				waitKey = false
				delay := 20 * ms
				if tc.jitter != nil {
					delay += time.Duration(tc.jitter(i)) * ms
				}
				clk.now = f.at.Add(delay)
				m.Frame(f.data, f.key)
			}
			got := m.Total()
			if got.PSNR < 30 {
				t.Errorf("PSNR %.1f dB; want over 30: the repainted reference does not match", got.PSNR)
			}
			want := tc.want
			want.PSNR, want.Frozen = got.PSNR, got.Frozen
			if got != want || !near(got.Frozen, tc.want.Frozen) {
				t.Errorf("Total() = %+v\nwant       %+v (frozen %v)", got, want, tc.want.Frozen)
			}
			r := m.Recent()
			wantR := tc.recent
			if wantR == ([3]time.Duration{}) {
				wantR = [3]time.Duration{tc.want.LatencyP50, tc.want.LatencyP95, tc.want.LatencyMax}
			}
			if gotR := [3]time.Duration{r.LatencyP50, r.LatencyP95, r.LatencyMax}; gotR != wantR {
				t.Errorf("Recent() latency p50/p95/max %v; want %v", gotR, wantR)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPSNRFollowsBitrate checks PSNR means something: each step down in
// bitrate costs decibels.
func TestPSNRFollowsBitrate(t *testing.T) {
	tests := []struct {
		bitrate  int
		min, max float64
	}{
		{1_500_000, 30, 99},
		{300_000, 0, 99},
		{100_000, 0, 99},
	}
	got := make([]float64, len(tests))
	t.Run("encode", func(t *testing.T) {
		for i, tc := range tests {
			t.Run(fmt.Sprint(tc.bitrate), func(t *testing.T) {
				t.Parallel()
				frames := encode(t, clip{w: 640, h: 480, n: 45, bitrate: tc.bitrate})
				m := newMeter(t, Options{PSNREvery: 1})
				for _, f := range frames {
					m.Frame(f.data, f.key)
				}
				got[i] = m.Total().PSNR
			})
		}
	})
	if t.Failed() {
		return
	}
	for i, tc := range tests {
		t.Logf("640x480 at %d kbit/s: PSNR %.1f dB", tc.bitrate/1000, got[i])
		if got[i] < tc.min || got[i] > tc.max {
			t.Errorf("PSNR at %d bit/s %.1f dB; want %.0f..%.0f", tc.bitrate, got[i], tc.min, tc.max)
		}
		if i > 0 && got[i] > got[i-1]-1 {
			t.Errorf("PSNR at %d bit/s %.1f dB, at %d bit/s %.1f dB: less bitrate should cost at least 1 dB",
				tests[i-1].bitrate, got[i-1], tc.bitrate, got[i])
		}
	}
	if got[0]-got[len(got)-1] < 3 {
		t.Errorf("PSNR %.1f dB at %d bit/s vs %.1f dB at %d bit/s: starving should cost at least 3 dB",
			got[0], tests[0].bitrate, got[len(got)-1], tests[len(tests)-1].bitrate)
	}
}

func TestLumaPSNR(t *testing.T) {
	mk := func(seq int, millis int64) *image.YCbCr {
		img := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
		pattern.Paint(img, seq, time.UnixMilli(millis))
		return img
	}
	ref := mk(20, 5000)
	plusOne := mk(20, 5000)
	for i := range plusOne.Y {
		plusOne.Y[i]++ // MSE 1 unless it overflowed, which the pattern avoids
	}
	tests := []struct {
		name     string
		img      *image.YCbCr
		min, max float64
	}{
		{"identical", mk(20, 5000), 99, 99},
		{"off by one everywhere", plusOne, 48.13, 48.14}, // 10*log10(255²)
		// The stamp cells alone cost this much: the reference must
		// carry the received stamp.
		{"another capture time in the stamp", mk(20, 6000), 10, 30},
		{"the wrong frame", mk(27, 5000), 0, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lumaPSNR(tc.img, ref); got < tc.min || got > tc.max {
				t.Errorf("PSNR %.2f dB; want %.2f..%.2f", got, tc.min, tc.max)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	good := encode(t, clip{w: 320, h: 240, n: 45, bitrate: 300_000, keyAt: 15})
	type input struct {
		data []byte
		key  bool
	}
	frames := func(from, to int) []input {
		var in []input
		for _, f := range good[from:to] {
			in = append(in, input{f.data, f.key})
		}
		return in
	}
	cat := func(parts ...[]input) []input {
		var in []input
		for _, p := range parts {
			in = append(in, p...)
		}
		return in
	}
	tests := []struct {
		name string
		in   []input
		want Figures
	}{
		{
			name: "garbage only",
			in: []input{
				{nil, true}, {[]byte{}, true}, {[]byte{0x00}, true},
				{[]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0xff, 0xff, 0xff}, true},
				{make([]byte, 1000), true}, {good[0].data[:len(good[0].data)/8], true},
			},
			want: Figures{DecodeErrs: 6},
		},
		{
			// After the error, frames 10 to 14 are skipped until the
			// keyframe at 15; they count as lost.
			name: "an empty frame mid-stream",
			in:   cat(frames(0, 10), []input{{nil, false}}, frames(10, 45)),
			want: Figures{Frames: 40, Lost: 5, DecodeErrs: 1},
		},
		{
			name: "a keyframe cut short, then the stream",
			in:   cat([]input{{good[0].data[:len(good[0].data)/8], true}}, frames(1, 45)),
			want: Figures{Frames: 30, DecodeErrs: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMeter(t, Options{Now: func() time.Time { return base }})
			for _, f := range tc.in {
				m.Frame(f.data, f.key)
			}
			got := m.Total()
			got.LatencyP50, got.LatencyP95, got.LatencyMax, got.Frozen, got.PSNR = 0, 0, 0, 0, 0
			if got != tc.want {
				t.Errorf("counters %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestUnreadableStamps(t *testing.T) {
	frames := encode(t, clip{w: 320, h: 240, n: 5, bitrate: 300_000, damage: true})
	m := newMeter(t, Options{})
	for _, f := range frames {
		m.Frame(f.data, f.key)
	}
	if got, want := m.Total(), (Figures{Unreadable: 5}); got != want {
		t.Errorf("figures %+v; want %+v", got, want)
	}
}

func TestFrameAfterClose(t *testing.T) {
	frames := encode(t, clip{w: 320, h: 240, n: 45, bitrate: 300_000})
	m := newMeter(t, Options{})
	m.Frame(frames[0].data, true)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	m.Frame(frames[0].data, true)
	if got := m.Total(); got.Frames != 1 || got.DecodeErrs != 0 {
		t.Errorf("figures %+v; want the one frame before Close and no error", got)
	}
}

// TestConcurrentReads reads the figures while frames go in; run with -race.
func TestConcurrentReads(t *testing.T) {
	frames := encode(t, clip{w: 320, h: 240, n: 45, bitrate: 300_000})
	m := newMeter(t, Options{Window: 7})
	done := make(chan struct{})
	read := make(chan int)
	go func() {
		n := 0
		defer func() { read <- n }()
		for {
			select {
			case <-done:
				return
			default:
			}
			_ = m.Recent()
			_ = m.Total()
			n++
		}
	}()
	for _, f := range frames {
		m.Frame(f.data, f.key)
	}
	close(done)
	select {
	case n := <-read:
		t.Logf("%d reads during %d frames", n, len(frames))
	case <-time.After(10 * time.Second):
		t.Fatal("the reader did not stop")
	}
	if got := m.Total(); got.Frames != 45 {
		t.Errorf("frames %d; want 45", got.Frames)
	}
}

// BenchmarkFrame measures what Frame costs the receiving goroutine:
// decoding, reading the stamp and, on sampled frames, repainting the
// reference and comparing. cpu-ms/frame is the process's CPU time (user
// and system) per frame.
func BenchmarkFrame(b *testing.B) {
	sizes := []clip{
		{w: 640, h: 480, n: 30, bitrate: 1_500_000},
		{w: 1280, h: 720, n: 30, bitrate: 2_500_000},
		{w: 1920, h: 1080, n: 30, bitrate: 4_000_000},
	}
	modes := []struct {
		name  string
		every int
	}{{"psnr=never", -1}, {"psnr=1in10", 10}, {"psnr=all", 1}}
	for _, c := range sizes {
		for _, mode := range modes {
			b.Run(fmt.Sprintf("%dx%d/%s", c.w, c.h, mode.name), func(b *testing.B) {
				frames := encode(b, c)
				m, err := New(Options{Codec: vp8.Descriptor, PSNREvery: mode.every})
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				cpu0 := cpuTime(b)
				b.ResetTimer()
				for i := range b.N {
					f := frames[i%len(frames)]
					m.Frame(f.data, f.key)
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/frame")
				if got := m.Total(); got.Frames != uint64(b.N) {
					b.Fatalf("%d of %d frames measured: %+v", got.Frames, b.N, got)
				}
			})
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
