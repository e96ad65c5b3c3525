// Package view shows received video to a person in a window, at the very
// end of the receive pipeline: each video frame the recorder writes is
// decoded here, by the decoder of the codec the window is given
// (Options.Codec), and handed, as a raw picture, to a player process
// (ffplay) that p2pcam starts and feeds over a pipe.
//
// Raw pictures rather than the compressed stream: the player then has no
// decoder to prime and no clock of its own to start (a player fed WebM or
// IVF sets its clock from the first timestamps it sees and can hold every
// picture back a quarter of a second for the whole call). The pictures go
// as YUV4MPEG2 with a nominal rate of 1000 frames per second, and the
// player runs with the video as master clock, so each picture is due the
// moment it arrives and is shown at the player's next refresh (10 ms
// here). When the player falls behind, the picture waiting to be written
// is replaced by the newer one: a live window never lags to catch up.
//
// The window's title is the caller's, and on an X11 display SetTitle can
// change it later: the caller can then start the player before it knows
// the title (ffplay takes longer to start than a call to connect). The
// player's output never reaches the terminal (its last lines are kept
// for an error message). A person closing the window (or pressing q or Esc) ends the player with status
// 0, which Window reports as Done with a nil Err; so is a window destroyed
// under the player (which X11 makes it exit 1 for).
//
// The package knows nothing of sessions or flags; it needs the codec's
// decoder in this build (package decode), and a display: Check says what
// is missing.
package view

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/decode"
)

// Player is the program a Window runs by default.
const Player = "ffplay"

// playerArgs are ffplay's options for a live window: read the pipe at
// once (no probing, no buffering), drop pictures that are late, and take
// the video as the clock so that no clock of its own holds pictures back.
// The rest keeps it quiet (its output goes to a log, not the terminal) and
// ends it at the end of the pipe.
var playerArgs = []string{
	"-hide_banner", "-loglevel", "error", "-nostats",
	"-probesize", "32", "-analyzeduration", "0",
	"-fflags", "nobuffer", "-flags", "low_delay", "-framedrop",
	"-sync", "video", "-autoexit",
	"-f", "yuv4mpegpipe",
}

// ErrNoDisplay means there is no display to open a window on: on Linux
// and the other Unixes, neither $DISPLAY nor $WAYLAND_DISPLAY is set.
var ErrNoDisplay = errors.New("no display: neither DISPLAY nor WAYLAND_DISPLAY is set")

// ErrNoDecoder means this build has no decoder for the codec: it was built
// without cgo. It is decode.ErrNoDecoder.
var ErrNoDecoder = decode.ErrNoDecoder

// PlayerMissingError means the player program is not installed (not on
// $PATH).
type PlayerMissingError struct{ Name string }

func (e *PlayerMissingError) Error() string {
	return fmt.Sprintf("the video player %s is not installed", e.Name)
}

// PlayerError means the player ended with a failure status; Tail is the
// last of what it printed.
type PlayerError struct {
	Name   string
	Status int
	Tail   string
}

func (e *PlayerError) Error() string {
	s := fmt.Sprintf("%s exited with status %d", e.Name, e.Status)
	if e.Tail != "" {
		s += ": " + e.Tail
	}
	return s
}

// Check reports what a Window would lack here: ErrNoDisplay, a
// *PlayerMissingError for player ("" means Player), or an error wrapping
// ErrNoDecoder for the preferred video codec (package codecs). macOS
// and Windows always have a display.
func Check(player string) error {
	if player == "" {
		player = Player
	}
	if needsDisplayEnv(runtime.GOOS) && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return ErrNoDisplay
	}
	if _, err := exec.LookPath(player); err != nil {
		return &PlayerMissingError{Name: player}
	}
	if d, ok := codecs.Default(codec.Video); ok {
		return decode.Check(d)
	}
	return nil
}

// needsDisplayEnv says whether a window needs $DISPLAY or $WAYLAND_DISPLAY
// on goos: everywhere X11 or Wayland is the way, not on macOS or Windows.
func needsDisplayEnv(goos string) bool {
	switch goos {
	case "darwin", "ios", "windows", "android":
		return false
	}
	return true
}

// Options configure a Window.
type Options struct {
	// Title is the window's title.
	Title string
	// Player is the program to run; "" means Player (ffplay). It is run
	// with ffplay's options and reads YUV4MPEG2 on its standard input.
	Player string
	// Codec is the codec of the frames given to Frame; the zero value
	// means the preferred video codec (package codecs).
	Codec codec.Descriptor
	// Logger receives debug records (decode errors, the player's status);
	// nil discards them.
	Logger *slog.Logger
}

// Window is a player process showing pictures in a window. Frame is
// called from one goroutine at a time; Done, Err and Close from any.
type Window struct {
	name string
	log  *slog.Logger
	cmd  *exec.Cmd
	in   *os.File
	tail *tailBuffer
	dec  decode.Decoder

	// Used by Frame only.
	waitKey bool

	mu      sync.Mutex
	pending *image.YCbCr  // the newest picture not yet written
	wake    chan struct{} // a picture is pending (capacity 1)
	stop    chan struct{} // Close was called
	closing bool
	err     error

	titleStop chan struct{}  // ends the title keeper; nil when none runs
	closed    bool           // Close was called: SetTitle starts nothing
	titles    sync.WaitGroup // SetTitle's goroutines, joined by Close

	written chan struct{} // the writer is done
	done    chan struct{} // the player has exited
	once    sync.Once
}

// exitWait bounds how long Close waits for the player to exit by itself
// at the end of its input before it is killed.
const exitWait = 2 * time.Second

// Start starts the player with the window title opts.Title; its window
// opens with the first picture given to Frame. The player runs until the
// person closes it or Close is called.
func Start(opts Options) (*Window, error) {
	if opts.Player == "" {
		opts.Player = Player
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Codec.MimeType == "" {
		opts.Codec, _ = codecs.Default(codec.Video)
	}
	dec, err := decode.New(opts.Codec)
	if err != nil {
		return nil, err
	}
	args := append([]string{"-window_title", opts.Title}, playerArgs...)
	args = append(args, "-i", "pipe:0")
	cmd := exec.Command(opts.Player, args...)
	tail := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = tail, tail
	ownProcessGroup(cmd)
	out, in, err := os.Pipe()
	if err != nil {
		dec.Close()
		return nil, fmt.Errorf("start %s: %w", opts.Player, err)
	}
	// The pipe is sized with the first picture (sizePipe).
	cmd.Stdin = out
	err = cmd.Start()
	out.Close()
	if err != nil {
		in.Close()
		dec.Close()
		if errors.Is(err, exec.ErrNotFound) {
			return nil, &PlayerMissingError{Name: opts.Player}
		}
		return nil, fmt.Errorf("start %s: %w", opts.Player, err)
	}
	w := &Window{
		name: opts.Player, log: opts.Logger, cmd: cmd, in: in, tail: tail, dec: dec,
		waitKey: true,
		wake:    make(chan struct{}, 1), stop: make(chan struct{}),
		written: make(chan struct{}), done: make(chan struct{}),
	}
	go w.write()
	go w.wait()
	return w, nil
}

// Frame decodes one frame of the window's codec and hands its picture to the player,
// replacing a picture still waiting to be written. It never blocks on the
// player. data is not kept. A frame that fails to decode is skipped, and
// so is everything until the next keyframe.
func (w *Window) Frame(data []byte, keyFrame bool) {
	if w.waitKey && !keyFrame {
		return
	}
	img, err := w.dec.Decode(data)
	switch {
	case errors.Is(err, decode.ErrSkip):
		return
	case err != nil:
		w.log.Debug("view: decode", "err", err)
		w.waitKey = true
		return
	}
	w.waitKey = false
	w.mu.Lock()
	w.pending = img
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// write feeds the player the pending pictures until Close or a write
// error (the player went away).
func (w *Window) write() {
	defer close(w.written)
	var (
		buf           []byte
		width, height int
	)
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			return
		}
		w.mu.Lock()
		img := w.pending
		w.pending = nil
		w.mu.Unlock()
		if img == nil {
			continue
		}
		if buf == nil {
			width, height = img.Rect.Dx(), img.Rect.Dy()
			// A nominal 1000 fps: every picture is due as it arrives.
			buf = fmt.Appendf(nil, "YUV4MPEG2 W%d H%d F1000:1 Ip A1:1 C420jpeg\n", width, height)
			sizePipe(w.in, width*height*3/2)
		} else {
			buf = buf[:0]
		}
		buf = appendFrame(buf, img, width, height)
		if _, err := w.in.Write(buf); err != nil {
			w.log.Debug("view: write to the player", "err", err)
			return
		}
	}
}

// wait waits for the player to exit and records why.
func (w *Window) wait() {
	err := w.cmd.Wait()
	w.mu.Lock()
	var ee *exec.ExitError
	switch {
	case w.closing:
		// Ended at our request: not the person's doing, not a failure.
	case err == nil:
		w.log.Debug("view: the player was closed")
	case errors.As(err, &ee) && (w.tail.has("BadWindow") || w.tail.has("BadDrawable")):
		// Its window was destroyed under it (xdotool windowclose, a
		// window manager's forced close): X11 ends the player with an
		// error, but the window is just as closed.
		w.log.Debug("view: the player's window was destroyed", "tail", w.tail.last())
	case errors.As(err, &ee):
		w.err = &PlayerError{Name: w.name, Status: ee.ExitCode(), Tail: w.tail.last()}
	default:
		w.err = fmt.Errorf("%s: %w", w.name, err)
	}
	w.mu.Unlock()
	close(w.done)
}

// Done is closed when the player has exited: closed by the person (Err
// is nil), failed (Err says why), or ended by Close.
func (w *Window) Done() <-chan struct{} { return w.done }

// Err returns why the player failed, once Done is closed; nil when it was
// closed by the person or by Close.
func (w *Window) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// ErrNoRetitle means SetTitle cannot change a window's title here (see
// CanRetitle).
var ErrNoRetitle = errors.New("this platform cannot retitle the player's window")

// CanRetitle reports whether SetTitle works here: on an X11 display
// (Linux and the BSDs with $DISPLAY set, XWayland included). Where it
// does, a Window can be started before its title is known, so that the
// player has loaded by the time the first picture comes (ffplay takes
// 0.3–0.6 s to start: its libraries, SDL, the display).
func CanRetitle() bool { return canRetitle() }

// SetTitle gives the window a new title, now and for as long as the
// player runs (the player's own title changes are undone). It returns
// ErrNoRetitle where CanRetitle is false, and ErrClosed after Close. The
// goroutines that keep the title end with the player, and Close waits for
// them.
func (w *Window) SetTitle(title string) error {
	if !canRetitle() {
		return ErrNoRetitle
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	if w.titleStop != nil {
		close(w.titleStop) // a second call replaces the first keeper
	}
	stop := make(chan struct{})
	w.titleStop = stop
	// Counted under mu, before Close can mark the window closed and wait:
	// the goroutines started below are added while this count holds.
	w.titles.Add(1)
	w.mu.Unlock()
	defer w.titles.Done()
	w.titles.Go(func() {
		select {
		case <-w.done:
		case <-w.stop:
		case <-stop:
			return
		}
		w.mu.Lock()
		if w.titleStop == stop {
			close(stop)
			w.titleStop = nil
		}
		w.mu.Unlock()
	})
	return keepTitle(w.cmd.Process.Pid, title, stop, &w.titles, w.log.Debug)
}

// ErrClosed means the Window was closed.
var ErrClosed = errors.New("the window was closed")

// Close ends the player: its input ends, and it is killed if it has not
// exited within two seconds. It waits for the player to exit and for every
// goroutine the Window started (the title keeper's too), frees the
// decoder, and returns Err. It may be called more than once.
func (w *Window) Close() error {
	w.once.Do(func() {
		w.mu.Lock()
		select {
		case <-w.done:
		default:
			w.closing = true
		}
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
		// Closing the pipe also ends a write the player is not reading
		// (a paused player stops reading once its queues fill).
		w.in.Close()
		<-w.written
		select {
		case <-w.done:
		case <-time.After(exitWait):
			_ = w.cmd.Process.Kill()
			<-w.done
		}
		w.titles.Wait()
		w.dec.Close()
	})
	return w.Err()
}

// appendFrame appends a YUV4MPEG2 FRAME of img at width×height to buf:
// img's own planes when it has that size, else img scaled to it (a sender
// may change the size mid-call; the stream's header cannot).
func appendFrame(buf []byte, img *image.YCbCr, width, height int) []byte {
	buf = append(buf, "FRAME\n"...)
	cw, ch := (width+1)/2, (height+1)/2
	buf = appendPlane(buf, img.Y, img.YStride, img.Rect.Dx(), img.Rect.Dy(), width, height)
	icw, ich := (img.Rect.Dx()+1)/2, (img.Rect.Dy()+1)/2
	buf = appendPlane(buf, img.Cb, img.CStride, icw, ich, cw, ch)
	buf = appendPlane(buf, img.Cr, img.CStride, icw, ich, cw, ch)
	return buf
}

// appendPlane appends a plane of sw×sh samples (stride apart) at dw×dh,
// scaling by the nearest sample when the sizes differ.
func appendPlane(buf, p []byte, stride, sw, sh, dw, dh int) []byte {
	if sw == dw && sh == dh {
		for y := range dh {
			buf = append(buf, p[y*stride:y*stride+dw]...)
		}
		return buf
	}
	for y := range dh {
		row := p[(y*sh/dh)*stride:]
		for x := range dw {
			buf = append(buf, row[x*sw/dw])
		}
	}
	return buf
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// has reports whether s is in what was kept.
func (t *tailBuffer) has(s string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Contains(t.b, []byte(s))
}

// last returns the last non-empty line written, trimmed.
func (t *tailBuffer) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(string(bytes.TrimSpace(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
