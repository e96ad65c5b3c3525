package view

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
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

// needPlayer skips the test without ffplay or a decoder.
func needPlayer(t *testing.T) {
	t.Helper()
	testutil.NeedCodec(t)
	if _, err := exec.LookPath(Player); err != nil {
		t.Skipf("%s not installed (apt-get install ffmpeg)", Player)
	}
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
	for n := 0; ; n++ {
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

// TestWindowShowsWhatArrives: a real ffplay window on a real (virtual)
// display shows the pictures given to Frame, under the given title, a
// few milliseconds after they are decoded; a person closing the window
// ends the player with no error.
func TestWindowShowsWhatArrives(t *testing.T) {
	needPlayer(t)
	d := xvfb.Start(t)
	t.Setenv("DISPLAY", d.Name)
	t.Setenv("WAYLAND_DISPLAY", "")
	if err := Check(""); err != nil {
		t.Fatalf("Check with a display and ffplay: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const title = "p2pcam test window 1234"
	start := time.Now()
	w, err := Start(Options{Title: title})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	var mu sync.Mutex
	fed := map[uint16]time.Time{} // when each frame was given to Frame
	feedCtx, stopFeed := context.WithCancel(ctx)
	feedErr := make(chan error, 1)
	go func() {
		feedErr <- live(feedCtx, 640, 480, func(seq int, data []byte, key bool) {
			w.Frame(data, key)
			mu.Lock()
			fed[uint16(seq)] = time.Now()
			mu.Unlock()
		})
	}()

	// Screenshots until 40 stamps have been read back.
	var win image.Rectangle
	var first time.Duration
	var ages []time.Duration
	for len(ages) < 40 {
		if ctx.Err() != nil {
			t.Fatalf("read %d stamps from the screen in time; want 40", len(ages))
		}
		shot, at, err := d.Shot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if win.Empty() {
			ids, _ := d.Windows(ctx, title)
			if len(ids) == 0 {
				continue
			}
			if win, err = d.Geometry(ctx, ids[0]); err != nil {
				t.Fatal(err)
			}
		}
		s, ok := xvfb.Stamp(shot, win)
		if !ok {
			continue
		}
		mu.Lock()
		decoded, known := fed[s.Seq]
		mu.Unlock()
		if !known {
			t.Fatalf("the screen shows frame %d, never given to the window", s.Seq)
		}
		if first == 0 {
			first = at.Sub(start)
		}
		ages = append(ages, at.Sub(decoded))
	}
	stopFeed()
	if err := <-feedErr; err != nil {
		t.Fatal(err)
	}
	slices.Sort(ages)
	p50, p95 := ages[len(ages)/2], ages[len(ages)*95/100]
	t.Logf("first picture %d ms after Start; picture age on screen after Frame p50 %d ms, p95 %d ms",
		first.Milliseconds(), p50.Milliseconds(), p95.Milliseconds())
	// Loose: the figures themselves belong to the benchmark.
	if p50 > time.Second {
		t.Errorf("the window shows pictures %v after they were decoded (median); want them as they arrive", p50)
	}

	ids, err := d.Windows(ctx, ".")
	if err != nil || len(ids) != 1 {
		t.Fatalf("windows on the display: %v (%v); want the player's alone", ids, err)
	}
	if got, err := d.Title(ctx, ids[0]); err != nil || got != title {
		t.Errorf("window title %q (%v); want %q", got, err, title)
	}
	if err := d.CloseWindow(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Done():
	case <-ctx.Done():
		t.Fatal("the player did not exit when its window was closed")
	}
	if err := w.Err(); err != nil {
		t.Errorf("closing the window: Err %v; want nil (a person closed it)", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after the window was closed: %v", err)
	}
}

// TestKeysCloseTheWindow: q and Esc in the window end the player as a
// close does.
func TestKeysCloseTheWindow(t *testing.T) {
	needPlayer(t)
	d := xvfb.Start(t)
	t.Setenv("DISPLAY", d.Name)
	frames := oneKeyFrame(t)
	for _, key := range []string{"q", "Escape"} {
		t.Run(key, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			w, err := Start(Options{Title: "keys " + key})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			// Pictures keep coming, as in a call.
			go func() {
				for i := 0; ; i++ {
					select {
					case <-w.Done():
						return
					case <-time.After(33 * time.Millisecond):
					}
					f := frames[i%len(frames)]
					w.Frame(f, f[0]&1 == 0)
				}
			}()
			var ids []string
			for len(ids) == 0 {
				if ctx.Err() != nil {
					t.Fatal("no window opened")
				}
				ids, _ = d.Windows(ctx, "keys "+key)
				time.Sleep(50 * time.Millisecond)
			}
			if err := d.Key(ctx, ids[0], key); err != nil {
				t.Fatal(err)
			}
			select {
			case <-w.Done():
			case <-ctx.Done():
				t.Fatalf("the player did not exit on %s", key)
			}
			if err := w.Err(); err != nil {
				t.Errorf("Err %v; want nil", err)
			}
		})
	}
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

// TestCloseEndsThePlayer: Close ends a player that is showing pictures,
// with no error, and Done then is closed.
func TestCloseEndsThePlayer(t *testing.T) {
	needPlayer(t)
	d := xvfb.Start(t)
	t.Setenv("DISPLAY", d.Name)
	w, err := Start(Options{Title: "close"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range oneKeyFrame(t) {
		w.Frame(f, f[0]&1 == 0)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case <-w.Done():
	default:
		t.Error("Done not closed after Close")
	}
}

// TestCheck: no display, or no player, is said before anything starts.
func TestCheck(t *testing.T) {
	testutil.NeedCodec(t)
	fake := t.TempDir() + "/player"
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, display, wayland, player string
		want                           error
		missing                        string
	}{
		{name: "no display", player: fake, want: ErrNoDisplay},
		{name: "x11", display: ":0", player: fake},
		{name: "wayland", wayland: "wayland-0", player: fake},
		{name: "no player", display: ":0", player: "p2pcam-no-such-player", missing: "p2pcam-no-such-player"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DISPLAY", tt.display)
			t.Setenv("WAYLAND_DISPLAY", tt.wayland)
			err := Check(tt.player)
			var pm *PlayerMissingError
			switch {
			case tt.missing != "":
				if !errors.As(err, &pm) || pm.Name != tt.missing {
					t.Errorf("Check: %v; want the player %s missing", err, tt.missing)
				}
			case !errors.Is(err, tt.want):
				t.Errorf("Check: %v; want %v", err, tt.want)
			}
		})
	}
	for goos, want := range map[string]bool{"linux": true, "freebsd": true, "darwin": false, "windows": false} {
		if got := needsDisplayEnv(goos); got != want {
			t.Errorf("needsDisplayEnv(%s) = %v; want %v", goos, got, want)
		}
	}
}

// TestPlayerFailure: a player that fails says so, with its last line.
func TestPlayerFailure(t *testing.T) {
	testutil.NeedCodec(t)
	fake := t.TempDir() + "/player"
	script := "#!/bin/sh\necho 'a banner' >&2\necho 'Could not initialize SDL - No available video device' >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := Start(Options{Player: fake})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("Done not closed after the player exited")
	}
	var pe *PlayerError
	if err := w.Close(); !errors.As(err, &pe) || pe.Status != 1 || pe.Tail != "Could not initialize SDL - No available video device" {
		t.Errorf("Close: %v; want a PlayerError with status 1 and the player's last line", err)
	}
}

// TestAppendFrame: pictures of the stream's size go as they are, others
// are scaled to it.
func TestAppendFrame(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 4, 2), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = byte(i)
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = byte(100+i), byte(200+i)
	}
	tests := []struct {
		w, h int
		want string
	}{
		{4, 2, "FRAME\n" + string([]byte{0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 200, 201})},
		{2, 2, "FRAME\n" + string([]byte{0, 2, 4, 6, 100, 200})},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.w, tt.h), func(t *testing.T) {
			if got := string(appendFrame(nil, img, tt.w, tt.h)); got != tt.want {
				t.Errorf("appendFrame = %q; want %q", got, tt.want)
			}
		})
	}
}
