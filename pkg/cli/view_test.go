package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/pkg/view"
)

// fakeDisplay is a Display without windows: Check says err; Open opens a
// fakeWindow.
type fakeDisplay struct {
	err    error
	titles *[]string
	win    *fakeWindow
}

func (d fakeDisplay) Check() error { return d.err }

func (d fakeDisplay) Open(opts view.Options) (view.Viewer, error) {
	*d.titles = append(*d.titles, opts.Title)
	return d.win, nil
}

// fakeWindow records the figures it is given.
type fakeWindow struct {
	figures []view.CallFigures
	done    chan struct{}
}

func (w *fakeWindow) Frame([]byte, bool)         {}
func (w *fakeWindow) Done() <-chan struct{}      { return w.done }
func (w *fakeWindow) Err() error                 { return nil }
func (w *fakeWindow) Close() error               { return nil }
func (w *fakeWindow) Figures(f view.CallFigures) { w.figures = append(w.figures, f) }

// TestViewNeedsAWindow: --view where no window can open says what is
// missing in one line, before any blob: a build without windows (no
// Display, as Main runs), or what the Display lacks.
func TestViewNeedsAWindow(t *testing.T) {
	tests := []struct {
		name string
		d    Display
		want string
	}{
		{"no windows in this build", nil, "p2pcam: --view needs a p2pcam built with cgo (and without the nosdl tag): build it with make build, or pipe -o - into a player"},
		{"no SDL2 library", fakeDisplay{err: fmt.Errorf("%w: load SDL2: libSDL2-2.0.so.0: cannot open shared object file", view.ErrNoSDL)}, "p2pcam: --view needs SDL2, which is not installed here: " + installSDL(runtime.GOOS) + ", or pipe -o - into a player"},
		{"no display", fakeDisplay{err: view.ErrNoDisplay}, "p2pcam: --view: no display to open a window on (neither $DISPLAY nor $WAYLAND_DISPLAY is set): run p2pcam in a desktop session or over ssh -X, or pipe -o - into a player where there is one"},
		{"no display server", fakeDisplay{err: &view.InitError{Display: "DISPLAY=:9", Reason: "x11 not available"}}, "p2pcam: --view: cannot open a window on DISPLAY=:9: SDL says x11 not available (is a display server running there?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := MainWith(ctx, []string{"answer", "--view", "--remote", "-", "--ice-server", "none"},
				Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, tt.d)
			if code != ExitFailure || errb.String() != tt.want+"\n" || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and the one line\n%s", code, out.String(), errb.String(), ExitFailure, tt.want)
			}
		})
	}
}

// TestViewCall: the window opens titled for the call, and the session's
// figures reach its overlay while the reporter still gets every event.
func TestViewCall(t *testing.T) {
	var titles []string
	win := &fakeWindow{done: make(chan struct{})}
	var reported []session.Event
	cfg := session.Config{Events: func(ev session.Event) { reported = append(reported, ev) }}
	viewCall(&cfg, fakeDisplay{titles: &titles, win: win}, slog.New(slog.DiscardHandler), session.Answerer, true, nil)

	cfg.Events(session.Figures{Snapshot: session.Snapshot{RTTMs: 5}}) // before the window: nowhere to go
	if _, err := cfg.View(session.ViewCall{Role: session.Answerer, Code: "778 062"}); err != nil {
		t.Fatal(err)
	}
	cfg.Events(session.Figures{Snapshot: session.Snapshot{RTTMs: 12.5, PacketsLost: 3}})
	cfg.Events(session.Verification{Code: "778 062"})
	if want := []string{"p2pcam answer · 778 062"}; len(titles) != 1 || titles[0] != want[0] {
		t.Errorf("titles %q; want %q", titles, want)
	}
	if want := (view.CallFigures{RTT: 12500 * time.Microsecond, PacketsLost: 3}); len(win.figures) != 1 || win.figures[0] != want {
		t.Errorf("the window got %+v; want one %+v", win.figures, want)
	}
	if len(reported) != 3 {
		t.Errorf("the reporter got %d events; want all 3", len(reported))
	}
}

// TestInstallSDL: the hint names the package to install where p2pcam runs.
func TestInstallSDL(t *testing.T) {
	for _, tt := range []struct{ goos, want string }{
		{"linux", "install it with `sudo apt install libsdl2-2.0-0` (Debian, Ubuntu, Raspberry Pi OS; elsewhere the SDL2 package)"},
		{"darwin", "install it with `brew install sdl2`"},
	} {
		if got := installSDL(tt.goos); got != tt.want {
			t.Errorf("installSDL(%q) = %q; want %q", tt.goos, got, tt.want)
		}
	}
}
