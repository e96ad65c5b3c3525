package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/internal/xvfb"
	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// onDisplay runs a side's command line with DISPLAY set to d.
func onDisplay(d *xvfb.Display) func(argv []string) []string {
	return func(argv []string) []string {
		return append([]string{"env", "-u", "WAYLAND_DISPLAY", "DISPLAY=" + d.Name}, argv...)
	}
}

// viewFigures are what the screen showed of a call watched with --view.
type viewFigures struct {
	first    time.Duration   // from "connected" on stderr to the first stamp read on screen
	lags     []time.Duration // screenshot time minus the stamp's capture time, sorted
	window   image.Rectangle // where the window is
	title    string
	windowID string
	shown    map[uint16]bool // the frames seen on screen
}

// watch takes screenshots of the viewer window until n stamps were read
// back, and returns the figures. connected is when the viewing side said
// it connected.
func watch(t *testing.T, ctx context.Context, d *xvfb.Display, connected time.Time, n int) viewFigures {
	t.Helper()
	return watchWindow(t, ctx, d, "^p2pcam ", connected, n)
}

// watchWindow is watch for the window whose title matches name.
func watchWindow(t *testing.T, ctx context.Context, d *xvfb.Display, name string, connected time.Time, n int) viewFigures {
	t.Helper()
	f := viewFigures{shown: map[uint16]bool{}}
	// The window first (it opens hidden and shows with the first
	// picture), then its pictures; looked for over an X connection of
	// the test's own, which takes a millisecond (xdotool's processes take
	// tens, which would count in the first picture's time).
	re := regexp.MustCompile(name)
	for f.windowID == "" {
		if ctx.Err() != nil {
			t.Fatal("no viewer window opened")
		}
		id, r, ok, err := d.FindWindow(re)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		f.windowID, f.window = id, r
	}
	var err error
	for len(f.lags) < n {
		if ctx.Err() != nil {
			t.Fatalf("read %d stamps off the screen in time; want %d", len(f.lags), n)
		}
		s, at, ok, err := d.ScreenStamp(f.window)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		if f.first == 0 {
			f.first = at.Sub(connected)
		}
		f.lags = append(f.lags, stampLag(at, s))
		f.shown[s.Seq] = true
		time.Sleep(10 * time.Millisecond)
	}
	slices.Sort(f.lags)
	// The title once pictures show: the player writes its own title as
	// it opens the window, and p2pcam's is put back just after.
	if f.title, err = d.Title(ctx, f.windowID); err != nil {
		t.Fatal(err)
	}
	return f
}

// stampLag is how long before at the stamped frame was captured, on this
// machine's clock (the stamp holds milliseconds modulo 2^32).
func stampLag(at time.Time, s pattern.Stamp) time.Duration {
	return time.Duration(int32(uint32(at.UnixMilli())-s.Millis)) * time.Millisecond
}

func pct(sorted []time.Duration, p int) time.Duration { return sorted[(len(sorted)-1)*p/100] }

// waitConnectedAt waits for the "connected over" line and returns when it
// was seen.
func waitConnectedAt(ctx context.Context, p *proc) time.Time {
	p.waitFor(ctx, "connected over")
	return time.Now()
}

// TestViewShowsTheCall: `--view` on either side opens p2pcam's own window
// on a real (virtual) display, on a bare X server and on a desktop with a
// window manager, with no ffplay anywhere on the PATH; it shows the other
// side's camera as it arrives, titled with the command, the verification
// code and the path, records with -o FILE what it shows, and closing the
// window (or q) hangs up cleanly on both sides, telling the other why.
func TestViewShowsTheCall(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	testutil.NeedCodec(t)
	tests := []struct {
		name   string
		viewer string // the side with --view
		wm     string // the window manager, "" for none
		close  string // how the person closes the window: a key, or "window"
	}{
		{"answer views, window closed", "answer", "", "window"},
		{"offer views, q pressed", "offer", "", "q"},
		{"answer views under twm, Escape pressed", "answer", "twm", "Escape"},
	}
	noFFplay := t.TempDir() // the viewer's PATH: nothing in it
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xvfb.Start(t)
			if tt.wm != "" {
				d.StartWindowManager(t, tt.wm)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			rec := filepath.Join(t.TempDir(), "shown.webm")
			spec := callSpec{
				offerArgs:  append([]string{"offer", "--source", "test"}, loopback...),
				answerArgs: append([]string{"answer", "-o", "none"}, loopback...),
			}
			viewArgs := []string{"--view", "-o", rec}
			onScreen := func(argv []string) []string {
				return onDisplay(d)(append([]string{"env", "PATH=" + noFFplay}, argv...))
			}
			if tt.viewer == "answer" {
				spec.answerArgs = append(append([]string{"answer"}, viewArgs...), loopback...)
				spec.answerIn = onScreen
			} else {
				spec.offerArgs = append(spec.offerArgs, viewArgs...)
				spec.answerArgs = append([]string{"answer", "--source", "test", "-o", "none"}, loopback...)
				spec.offerIn = onScreen
			}
			offer, answer := call(t, ctx, spec)
			viewer, other := answer, offer
			if tt.viewer == "offer" {
				viewer, other = offer, answer
			}
			connected := waitConnectedAt(ctx, viewer)
			f := watch(t, ctx, d, connected, 60)
			t.Logf("%s: first picture %d ms after connecting; on screen %d ms behind the camera (p50), %d ms (p95)",
				tt.viewer, f.first.Milliseconds(), pct(f.lags, 50).Milliseconds(), pct(f.lags, 95).Milliseconds())
			// Loose checks: the figures belong to the benchmark.
			if pct(f.lags, 50) > time.Second {
				t.Errorf("the window shows the camera %v late (median); want it live", pct(f.lags, 50))
			}
			code := regexp.MustCompile(`verification code: (\S+ \S+)`).FindStringSubmatch(viewer.errText())
			pair := regexp.MustCompile(`connected over (\S+) (\S+):\d+ <-> (\S+):\d+`).FindStringSubmatch(viewer.errText())
			if code == nil || pair == nil {
				t.Fatalf("%s said no verification code or path:\n%s", tt.viewer, viewer.errText())
			}
			want := fmt.Sprintf("p2pcam %s · %s · %s %s ↔ %s", tt.viewer, code[1], pair[1], pair[2], pair[3])
			if got, err := d.UTF8Title(ctx, f.windowID); err != nil || got != want {
				t.Errorf("window title %q (%v); want %q", got, err, want)
			}
			if tt.close == "window" {
				err := d.CloseWindow(ctx, f.windowID)
				if err != nil {
					t.Fatal(err)
				}
			} else if err := d.Key(ctx, f.windowID, tt.close); err != nil {
				// The window closes on the key's press; xdotool's
				// release may then find it gone.
				t.Logf("%s: %v", tt.close, err)
			}
			waitOK(ctx, viewer, other)
			if !strings.Contains(viewer.errText(), "the viewer was closed; hanging up\n") {
				t.Errorf("%s did not say why it hung up:\n%s", tt.viewer, viewer.errText())
			}
			if !strings.Contains(other.errText(), "the other side closed its viewer window; the call is over") {
				t.Errorf("the other side was not told:\n%s", other.errText())
			}
			// Nothing of SDL's or X's on the terminal.
			for _, l := range strings.Split(strings.TrimSpace(viewer.errText()), "\n") {
				if strings.Contains(l, "SDL") || strings.Contains(l, "X Error") || strings.Contains(l, "XDG_RUNTIME_DIR") {
					t.Errorf("the window's libraries reached the terminal: %q", l)
				}
			}
			testutil.DecodesCleanly(t, rec)
			if p := testutil.Probe(t, rec); p.Frames < len(f.shown) {
				t.Errorf("the recording of what was shown has %d frames; want at least the %d seen", p.Frames, len(f.shown))
			}
		})
	}
}

// TestViewWithoutDisplay: --view with nothing to show a window on says
// what is missing, in one line, before any network.
func TestViewWithoutDisplay(t *testing.T) {
	t.Parallel()
	testutil.NeedCodec(t)
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no display", []string{"PATH=" + os.Getenv("PATH")}, "p2pcam: --view: no display to open a window on (neither $DISPLAY nor $WAYLAND_DISPLAY is set): run p2pcam in a desktop session or over ssh -X, or pipe -o - into a player where there is one"},
		{"no X server", []string{"PATH=" + os.Getenv("PATH"), "DISPLAY=:4242"}, "p2pcam: --view: cannot open a window on DISPLAY=:4242: SDL says x11 not available (is a display server running there?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binPath, append([]string{"answer", "--view", "--remote", "-"}, loopback...)...)
			cmd.Env = tt.env
			cmd.Stdin = strings.NewReader("")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit %v; want status 1\n%s", err, stderr.String())
			}
			if got := stderr.String(); got != tt.want+"\n" {
				t.Errorf("stderr:\n%s\nwant the one line\n%s", got, tt.want)
			}
		})
	}
}

// TestVideoToATerminalRefused: -o - with stdout on a terminal refuses at
// once rather than printing WebM into it.
func TestVideoToATerminalRefused(t *testing.T) {
	t.Parallel()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }()
	cmd := exec.Command(binPath, append([]string{"answer", "-o", "-"}, loopback...)...)
	cmd.Stdout = tty
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = strings.NewReader("")
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v; want status 1\n%s", err, stderr.String())
	}
	want := "p2pcam: stdout is a terminal: pipe it into a player, e.g. `p2pcam answer -o - | ffplay -hide_banner -loglevel error -nostats -probesize 32 -analyzeduration 0 -fflags nobuffer -flags low_delay -framedrop -`, or use --view\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", stderr.String(), want)
	}
}

// keyFrames counts the keyframes in a recording, by ffprobe.
func keyFrames(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	n := 0
	for _, l := range strings.Fields(string(out)) {
		if strings.HasPrefix(l, "K") {
			n++
		}
	}
	return n
}

// TestPipeGetsKeyFrames: -o - into a pipe carries a keyframe every
// second, so that a player that starts reading late, or discards the
// first keyframe while it probes, shows a picture within a second; -o -
// redirected to a file, like any file, gets keyframes only on loss.
func TestPipeGetsKeyFrames(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	offerArgs := append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--duration", "4s"}, loopback...)

	offer, answer := call(t, ctx, callSpec{offerArgs: offerArgs,
		answerArgs: append([]string{"answer", "-o", "-"}, loopback...), answerToStdout: true})
	waitOK(ctx, offer, answer)
	piped := filepath.Join(dir, "piped.webm")
	if err := os.WriteFile(piped, answer.stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	redirected := filepath.Join(dir, "redirected.webm")
	offer, answer = call(t, ctx, callSpec{offerArgs: offerArgs,
		answerArgs: append([]string{"answer", "-o", "-"}, loopback...), answerToStdout: true,
		answerIn: func(argv []string) []string {
			return append([]string{"bash", "-c", `exec "$@" > '` + redirected + `'`, "sh"}, argv...)
		}})
	waitOK(ctx, offer, answer)

	p, r := keyFrames(t, piped), keyFrames(t, redirected)
	t.Logf("keyframes in 4 s: %d on a pipe, %d redirected to a file", p, r)
	if p < 3 {
		t.Errorf("a 4 s call into a pipe carried %d keyframes; want one a second", p)
	}
	if r > 2 {
		t.Errorf("a 4 s call redirected to a file carried %d keyframes; want them only on loss", r)
	}
}
