//go:build cgo

package view

import (
	"context"
	"errors"
	"image"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
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
			id := waitWindow(t, ctx, d, "keys "+key, nil)
			if err := d.Key(ctx, id, key); err != nil {
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

// waitWindow waits for a visible window whose title matches name and
// returns its id; between looks it calls meanwhile (when not nil).
func waitWindow(t *testing.T, ctx context.Context, d *xvfb.Display, name string, meanwhile func()) string {
	t.Helper()
	for {
		if ctx.Err() != nil {
			t.Fatalf("no window %q opened", name)
		}
		if ids, _ := d.Windows(ctx, name); len(ids) > 0 {
			return ids[0]
		}
		if meanwhile != nil {
			meanwhile()
		}
		time.Sleep(20 * time.Millisecond)
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

// TestSetTitleSticks: a window started before its title is known (as
// --view starts it, before the call connects) shows the title SetTitle
// gave it, also after the first picture, when ffplay writes its own.
func TestSetTitleSticks(t *testing.T) {
	needPlayer(t)
	d := xvfb.Start(t)
	t.Setenv("DISPLAY", d.Name)
	if !CanRetitle() {
		t.Fatal("CanRetitle false on an X11 display")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := Start(Options{Title: "provisional"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const title = "p2pcam answer · host/udp [fd00::2]:40574 <-> 10.0.0.1:5000 · verification code 123 456 é"
	// The player is still starting: the title waits for its window.
	if err := w.SetTitle(title); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	frames := oneKeyFrame(t)
	for i := range 30 {
		f := frames[i%len(frames)]
		w.Frame(f, f[0]&1 == 0)
		time.Sleep(33 * time.Millisecond)
	}
	// ffplay writes its own title as it shows the window; ours is put
	// back a moment later (longer on a loaded machine).
	id := waitWindow(t, ctx, d, ".", nil)
	var got string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got, err = d.Title(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got == title {
			return
		}
	}
	t.Errorf("title %q 5 s after the window opened; want %q", got, title)
}

// TestCloseEndsAPausedPlayer: Close ends a player that stopped reading
// (a person paused it with p) instead of waiting for it for ever.
func TestCloseEndsAPausedPlayer(t *testing.T) {
	needPlayer(t)
	d := xvfb.Start(t)
	t.Setenv("DISPLAY", d.Name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, err := Start(Options{Title: "paused"})
	if err != nil {
		t.Fatal(err)
	}
	frames := oneKeyFrame(t)
	feed := func(n int) {
		for i := range n {
			f := frames[i%len(frames)]
			w.Frame(f, f[0]&1 == 0)
			time.Sleep(5 * time.Millisecond)
		}
	}
	feed(10)
	if err := d.Key(ctx, waitWindow(t, ctx, d, "^paused$", func() { feed(1) }), "p"); err != nil {
		t.Fatal(err)
	}
	// Enough pictures (320x240, 115 KB each) to fill ffplay's queues, so
	// that the writer blocks on the pipe.
	feed(400)
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Close waited for ever on a paused player")
	}
}

// TestCloseJoinsTheTitleKeeper: once Close returns, none of the
// goroutines SetTitle started runs any more, and SetTitle starts no new
// ones.
func TestCloseJoinsTheTitleKeeper(t *testing.T) {
	needPlayer(t)
	d := xvfb.Start(t)
	t.Setenv("DISPLAY", d.Name)
	w, err := Start(Options{Title: "provisional"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetTitle("kept"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, fn := range []string{"view.keepTitle", "view.(*titleKeeper)", "view.(*Window).SetTitle"} {
		if strings.Contains(stacks, fn) {
			t.Errorf("%s still runs after Close:\n%s", fn, stacks)
		}
	}
	if err := w.SetTitle("late"); !errors.Is(err, ErrClosed) {
		t.Errorf("SetTitle after Close = %v; want ErrClosed", err)
	}
}
