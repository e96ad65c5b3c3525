//go:build cgo && !nosdl

package view

import (
	"context"
	"errors"
	"image"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/internal/xvfb"
	"github.com/p2pcam/p2pcam/pkg/pattern"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// onScreen starts a display (Xvfb, with the window manager wm unless "") and a
// Screen on it whose loop runs on a goroutine of its own, locked to its
// thread (as main's is in p2pcam; X11 asks no more of SDL than one
// thread). Both end with the test, the Screen first.
func onScreen(t *testing.T, wm string) (*xvfb.Display, *Screen) {
	t.Helper()
	testutil.NeedCodec(t)
	d := xvfb.Start(t)
	if wm != "" {
		d.StartWindowManager(t, wm)
	}
	t.Setenv("DISPLAY", d.Name)
	t.Setenv("WAYLAND_DISPLAY", "")
	got := make(chan *Screen)
	release, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		RunMain(func(s *Screen) int {
			got <- s
			<-release
			return 0
		})
	}()
	s := <-got
	t.Cleanup(func() {
		close(release)
		<-ended
	})
	if err := s.Check(); err != nil {
		t.Fatalf("Check on %s: %v", d.Name, err)
	}
	return d, s
}

// live encodes the test pattern at w×h, 30 fps in real time, stamped with
// the time each frame is painted, and hands each frame to feed until ctx
// ends.
func live(ctx context.Context, w, h int, feed func(seq int, data []byte, key bool)) error {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	seq := 0
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	src := video.ReaderFunc(func() (image.Image, func(), error) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, func() {}, io.EOF
		}
		pattern.Paint(img, seq, time.Now())
		seq++
		return img, func() {}, nil
	})
	p := vp8.NewParams()
	p.BitRate = 1_500_000
	enc, err := p.BuildVideoEncoder(src, prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: 30}})
	if err != nil {
		return err
	}
	defer enc.Close()
	for {
		data, release, err := enc.Read()
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		// A VP8 keyframe has bit 0 of its first byte clear (RFC 6386 §9.1).
		feed(seq-1, data, data[0]&1 == 0)
		release()
	}
}

// feedLive feeds w the live pattern at width×height until the test ends
// or the window does.
func feedLive(t *testing.T, w Viewer, width, height int, fed func(seq int)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- live(ctx, width, height, func(seq int, data []byte, key bool) {
			select {
			case <-w.Done():
				cancel()
				return
			default:
			}
			w.Frame(data, key)
			if fed != nil {
				fed(seq)
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Error(err)
		}
	})
}

// waitWindow waits for a visible window whose title matches name and
// returns its id.
func waitWindow(t *testing.T, ctx context.Context, d *xvfb.Display, name string) string {
	t.Helper()
	for {
		if ctx.Err() != nil {
			t.Fatalf("no window %q opened", name)
		}
		if ids, _ := d.Windows(ctx, name); len(ids) > 0 {
			return ids[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// press presses key in the window id of w. A key that closes the window
// closes it on the press, and xdotool's release then finds no window:
// that is no failure once w has ended.
func press(t *testing.T, ctx context.Context, d *xvfb.Display, id, key string, w Viewer) {
	t.Helper()
	err := d.Key(ctx, id, key)
	if err == nil {
		return
	}
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal(err)
	}
}

// waitDone waits for the window to end and checks it ended with no error.
func waitDone(t *testing.T, ctx context.Context, w Viewer, why string) {
	t.Helper()
	select {
	case <-w.Done():
	case <-ctx.Done():
		t.Fatalf("the window did not end on %s", why)
	}
	if err := w.Err(); err != nil {
		t.Errorf("%s: Err %v; want nil (a person closed it)", why, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after %s: %v", why, err)
	}
}

// TestWindowShowsWhatArrives: a window of p2pcam's own on a real
// (virtual) display shows the pictures given to Frame at their own size,
// under its UTF-8 title, a few milliseconds after they are decoded; a
// person closing the window ends it with no error.
func TestWindowShowsWhatArrives(t *testing.T) {
	d, s := onScreen(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const title = "p2pcam answer · 778 062 · host/udp 10.0.0.1 ↔ 10.0.0.2"
	start := time.Now()
	w, err := s.Open(Options{Title: title})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var mu sync.Mutex
	fed := map[uint16]time.Time{} // when each frame was given to Frame
	feedLive(t, w, 640, 480, func(seq int) {
		mu.Lock()
		fed[uint16(seq)] = time.Now()
		mu.Unlock()
	})

	id := waitWindow(t, ctx, d, "^p2pcam answer")
	win, err := d.Geometry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if win.Dx() != 640 || win.Dy() != 480 {
		t.Errorf("window %v; want the picture's size, 640x480", win)
	}
	var first time.Duration
	var ages []time.Duration
	for len(ages) < 40 {
		if ctx.Err() != nil {
			t.Fatalf("read %d stamps from the screen in time; want 40", len(ages))
		}
		st, at, ok, err := d.ScreenStamp(win)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		mu.Lock()
		decoded, known := fed[st.Seq]
		mu.Unlock()
		if !known {
			t.Fatalf("the screen shows frame %d, never given to the window", st.Seq)
		}
		if first == 0 {
			first = at.Sub(start)
		}
		ages = append(ages, at.Sub(decoded))
		time.Sleep(10 * time.Millisecond)
	}
	slices.Sort(ages)
	t.Logf("first picture %d ms after Open; picture age on screen after Frame p50 %d ms, p95 %d ms",
		first.Milliseconds(), ages[len(ages)/2].Milliseconds(), ages[len(ages)*95/100].Milliseconds())
	// Loose: the figures themselves belong to the benchmark.
	if p50 := ages[len(ages)/2]; p50 > 500*time.Millisecond {
		t.Errorf("the window shows pictures %v after they were decoded (median); want them as they arrive", p50)
	}
	// The window's own account of its delay, as loose.
	p50, p95, shown, _ := w.(*Window).PresentDelay(false)
	t.Logf("the window's own delay, decoded to presented: p50 %v, p95 %v over %d pictures", p50, p95, shown)
	if shown == 0 || p50 <= 0 || p95 < p50 || p95 > 3*time.Second {
		t.Errorf("PresentDelay p50 %v, p95 %v, %d shown; want pictures shown, each a little after it was decoded", p50, p95, shown)
	}
	if got, err := d.UTF8Title(ctx, id); err != nil || got != title {
		t.Errorf("window title %q (%v); want %q", got, err, title)
	}
	if err := d.CloseWindow(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, w, "closing the window")
}

// TestTitleUnderAWindowManager: on a desktop (the window manager
// reparents the window into its frame) the title is the window's own
// from the start, in UTF-8: the code first, then the path.
func TestTitleUnderAWindowManager(t *testing.T) {
	for _, wm := range []string{"twm", "openbox"} {
		t.Run(wm, func(t *testing.T) {
			d, s := onScreen(t, wm)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			const title = "p2pcam offer · 123 456 · host/udp 10.0.0.1 ↔ 10.0.0.2"
			w, err := s.Open(Options{Title: title})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			feedLive(t, w, 320, 240, nil)
			id := waitWindow(t, ctx, d, "123 456")
			for _, get := range []func(context.Context, string) (string, error){d.UTF8Title, d.Title} {
				if got, err := get(ctx, id); err != nil || got != title {
					t.Errorf("title %q (%v); want %q", got, err, title)
				}
			}
			press(t, ctx, d, id, "q", w)
			waitDone(t, ctx, w, "q")
		})
	}
}

// TestKeys: q and Esc close the window as its close button does; f
// toggles full screen, and back.
func TestKeys(t *testing.T) {
	d, s := onScreen(t, "")
	for _, key := range []string{"q", "Escape"} {
		t.Run(key, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			w, err := s.Open(Options{Title: "keys " + key})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			feedLive(t, w, 320, 240, nil)
			id := waitWindow(t, ctx, d, "keys "+key)
			press(t, ctx, d, id, key, w)
			waitDone(t, ctx, w, key)
		})
	}
}

// TestFullScreen: f, or a double-click, toggles full screen and back,
// on a desktop whose window manager does full screen (EWMH: openbox); the
// window stays.
func TestFullScreen(t *testing.T) {
	d, s := onScreen(t, "openbox")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := s.Open(Options{Title: "full screen"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	feedLive(t, w, 320, 240, nil)
	id := waitWindow(t, ctx, d, "full screen")
	steps := []struct {
		how  string
		want image.Point
	}{{"f", image.Pt(1920, 1080)}, {"f", image.Pt(320, 240)}, {"double-click", image.Pt(1920, 1080)}, {"double-click", image.Pt(320, 240)}}
	for _, st := range steps {
		if st.how == "f" {
			press(t, ctx, d, id, "f", w)
		} else if err := d.DoubleClick(ctx, id); err != nil {
			t.Fatal(err)
		}
		want := st.want
		for {
			r, err := d.Geometry(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Size() == want {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("window %v after f; want %v", r, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	select {
	case <-w.Done():
		t.Fatal("f ended the window")
	default:
	}
}

// TestOverlay: s shows the figures over the picture, at the bottom left
// (clear of the pattern's stamp), and s again takes them away.
func TestOverlay(t *testing.T) {
	d, s := onScreen(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := s.Open(Options{Title: "overlay"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Figures(CallFigures{RTT: 12 * time.Millisecond})
	// A still picture: the screen changes only with the overlay.
	for _, f := range oneKeyFrame(t) {
		w.Frame(f, f[0]&1 == 0)
	}
	id := waitWindow(t, ctx, d, "^overlay$")
	r, err := d.Geometry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	corner := image.Rect(r.Min.X, r.Max.Y-60, r.Min.X+r.Dx()/2, r.Max.Y)
	look := func() *image.RGBA {
		shot, _, err := d.Shot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return shot.SubImage(corner).(*image.RGBA)
	}
	same := func(a, b *image.RGBA) bool {
		for y := corner.Min.Y; y < corner.Max.Y; y++ {
			for x := corner.Min.X; x < corner.Max.X; x++ {
				if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
					return false
				}
			}
		}
		return true
	}
	// until returns the first look at the corner that passes ok.
	until := func(what string, ok func(*image.RGBA) bool) *image.RGBA {
		for {
			if img := look(); ok(img) {
				return img
			}
			if ctx.Err() != nil {
				t.Fatalf("the corner never %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var last *image.RGBA
	plain := until("settled", func(img *image.RGBA) bool {
		settled := last != nil && same(img, last)
		last = img
		return settled
	})
	press(t, ctx, d, id, "s", w)
	until("showed the overlay", func(img *image.RGBA) bool { return !same(img, plain) })
	press(t, ctx, d, id, "s", w)
	until("lost the overlay", func(img *image.RGBA) bool { return same(img, plain) })
}

// oneKeyFrame encodes a few frames of the pattern; the first is a keyframe.
func oneKeyFrame(t *testing.T) [][]byte {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out [][]byte
	err := live(ctx, 320, 240, func(_ int, data []byte, _ bool) {
		out = append(out, append([]byte(nil), data...))
		if len(out) == 3 {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClose: Close ends a window that is showing pictures with no error,
// waits until it is gone, and may be called again; a Screen whose loop
// has ended opens nothing.
func TestClose(t *testing.T) {
	d, s := onScreen(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := s.Open(Options{Title: "closed by Close"})
	if err != nil {
		t.Fatal(err)
	}
	feedLive(t, w, 320, 240, nil)
	waitWindow(t, ctx, d, "closed by Close")
	for range 2 {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	select {
	case <-w.Done():
	default:
		t.Error("Done open after Close")
	}
	if ids, _ := d.Windows(ctx, "closed by Close"); len(ids) > 0 {
		t.Errorf("the window is still there after Close: %v", ids)
	}
	w.Frame([]byte{0}, true) // after Close: ignored, no panic

	var ended *Screen
	RunMain(func(s *Screen) int { ended = s; return 0 })
	if _, err := ended.Open(Options{Title: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after the loop ended: %v; want ErrClosed", err)
	}
}

// TestCheck: no display, or a display no X server is behind, is said
// before any window is asked for.
func TestCheck(t *testing.T) {
	testutil.NeedCodec(t)
	tests := []struct {
		name, display string
		want          func(error) bool
	}{
		{"no display", "", func(err error) bool { return errors.Is(err, ErrNoDisplay) }},
		{"no X server", ":4242", func(err error) bool { var ie *InitError; return errors.As(err, &ie) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DISPLAY", tt.display)
			t.Setenv("WAYLAND_DISPLAY", "")
			var err error
			RunMain(func(s *Screen) int { err = s.Check(); return 0 })
			if !tt.want(err) {
				t.Errorf("Check: %v", err)
			}
		})
	}
	for goos, want := range map[string]bool{"linux": true, "freebsd": true, "darwin": false, "windows": false} {
		if got := needsDisplayEnv(goos); got != want {
			t.Errorf("needsDisplayEnv(%s) = %v; want %v", goos, got, want)
		}
	}
}
