//go:build cgo && !nosdl

package view

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2pcam/p2pcam/internal/sdl"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/decode"
)

// Screen opens windows from any goroutine; SDL runs on the goroutine
// RunMain was called on (the main OS thread), and every call into SDL is
// handed to it.
type Screen struct {
	mu    sync.Mutex
	calls []func() // to run on the loop's thread, in order
	ended bool     // the loop has ended: do refuses new calls

	kick chan struct{} // wakes the loop while SDL is not up (capacity 1)
	up   atomic.Bool   // SDL's video is up: wake the loop with wakeEvent
	// wakeEvent is the SDL event type that wakes the loop; written on the
	// loop's thread before up is set, read by others after.
	wakeEvent uint32

	// The loop's thread only.
	initErr  error              // why SDL could not start; sticky
	windows  map[uint32]*Window // open windows by SDL window id
	spare    *sdlWindow         // a hidden window Check made ready for Open
	audioUp  bool               // SDL's audio is up
	audioErr error              // why SDL's audio could not start; sticky
}

// sdlWindow is an SDL window with its renderer.
type sdlWindow struct {
	win *sdl.Window
	ren *sdl.Renderer
	id  uint32
}

// RunMain runs run on a new goroutine and the windows' loop on the
// calling one, locked to its OS thread, and returns what run returns,
// once run has returned and every window it left open is closed. Call it
// from main, on the main thread: SDL must own it on macOS (main's package
// locks the main goroutine to it in an init function, and RunMain keeps
// it there). Until a window is asked for, the loop only waits; SDL's
// library is loaded and SDL starts with the first Check or Open, and SDL
// is shut down before RunMain returns.
func RunMain(run func(*Screen) int) int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := &Screen{kick: make(chan struct{}, 1), windows: map[uint32]*Window{}}
	var code int
	finished := make(chan struct{})
	go func() {
		defer func() {
			close(finished)
			s.wake()
		}()
		code = run(s)
	}()
	s.loop(finished)
	return code
}

// loop runs calls and SDL's events until finished is closed.
func (s *Screen) loop(finished <-chan struct{}) {
	defer s.end()
	for {
		s.runCalls()
		if !s.up.Load() {
			select {
			case <-s.kick:
				continue
			case <-finished:
				return
			}
		}
		select {
		case <-finished:
			return
		case <-s.kick:
		default:
		}
		// Woken by an event of the windows', a picture, or a call, or
		// when a picture held for the sound is due; the longest
		// timeout only bounds a wake that raced SDL's start.
		for ev, ok := sdl.WaitEventTimeout(s.untilDue(100)); ok; ev, ok = sdl.PollEvent() {
			s.handle(ev)
		}
		s.runCalls()
		for _, w := range s.windows {
			w.drawPending()
		}
	}
}

// untilDue is how many milliseconds the loop may wait for events before
// a held picture is due, at most limit; on the loop's thread.
func (s *Screen) untilDue(limit int) int {
	ms := limit
	now := time.Now()
	for _, w := range s.windows {
		w.mu.Lock()
		if len(w.held) > 0 {
			ms = min(ms, int((w.held[0].due.Sub(now)+time.Millisecond-1)/time.Millisecond))
		}
		w.mu.Unlock()
	}
	return max(ms, 1)
}

// end refuses further calls, runs those already queued, closes the
// windows still open and shuts SDL down.
func (s *Screen) end() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.runCalls()
	for _, w := range s.windows {
		w.destroy()
		w.finish(ErrClosed)
		// Its speaker stops too (its calls to the loop fail now).
		w.sp.close()
	}
	if s.spare != nil {
		s.spare.ren.Destroy()
		s.spare.win.Destroy()
		s.spare = nil
	}
	if s.audioUp {
		sdl.QuitSubSystem(sdl.InitAudio)
		s.audioUp = false
	}
	if s.up.Load() {
		// A late Frame's wake goes to kick from now on, not to an SDL
		// that has quit.
		s.up.Store(false)
		sdl.QuitSubSystem(sdl.InitVideo)
		sdl.Quit()
	}
}

// runCalls runs the queued calls on the loop's thread.
func (s *Screen) runCalls() {
	for {
		s.mu.Lock()
		calls := s.calls
		s.calls = nil
		s.mu.Unlock()
		if len(calls) == 0 {
			return
		}
		for _, f := range calls {
			f()
		}
	}
}

// do runs f on the loop's thread and waits for it; ErrClosed when the
// loop has ended.
func (s *Screen) do(f func()) error {
	ran := make(chan struct{})
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return ErrClosed
	}
	s.calls = append(s.calls, func() {
		defer close(ran)
		f()
	})
	s.mu.Unlock()
	s.wake()
	<-ran
	return nil
}

// wake wakes the loop: through SDL's event queue once SDL is up (SDL
// wakes its own wait), else through kick.
func (s *Screen) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
	if s.up.Load() {
		// An error means the queue is full: the loop is awake already.
		_ = sdl.PushUserEvent(s.wakeEvent)
	}
}

// Check reports what a window would lack here: ErrNoDisplay, an error
// wrapping ErrNoDecoder for the preferred video codec, an error wrapping
// ErrNoSDL when SDL2's library is not installed, an *InitError when SDL
// cannot start on the display, or why no window and renderer can be
// made. It loads SDL2's library, starts SDL and makes the next Open's
// window ready, hidden (that takes 0.1 s or more: the display, a GL
// context), so that a call's first picture does not wait for it. It may be called more
// than once.
func (s *Screen) Check() error {
	if err := checkEnv(); err != nil {
		return err
	}
	var err error
	derr := s.do(func() {
		if err = s.init(); err != nil || s.spare != nil {
			return
		}
		s.spare, err = newSDLWindow("p2pcam")
	})
	if derr != nil {
		return derr
	}
	return err
}

// newSDLWindow makes a hidden, resizable window and its renderer; on the
// loop's thread.
func newSDLWindow(title string) (*sdlWindow, error) {
	win, err := sdl.CreateWindow(title, sdl.WindowPosCentered, sdl.WindowPosCentered, 640, 480,
		sdl.WindowHidden|sdl.WindowResizable)
	if err != nil {
		return nil, fmt.Errorf("open a window: %w", err)
	}
	// SDL picks the best renderer there is (the GPU's, else its own in
	// software); no vsync: a picture is shown when it is decoded.
	ren, err := sdl.CreateRenderer(win, -1, 0)
	if err != nil {
		win.Destroy()
		return nil, fmt.Errorf("open a window: renderer: %w", err)
	}
	id, err := win.ID()
	if err != nil {
		ren.Destroy()
		win.Destroy()
		return nil, fmt.Errorf("open a window: %w", err)
	}
	return &sdlWindow{win: win, ren: ren, id: id}, nil
}

// init loads SDL2's library and starts SDL's video, once; on the loop's
// thread.
func (s *Screen) init() error {
	if s.up.Load() || s.initErr != nil {
		return s.initErr
	}
	if err := loadSDL(); err != nil {
		s.initErr = err
		return err
	}
	// p2pcam handles Ctrl-C itself (SDL would turn it into a quit
	// event); a full-screen window stays when another gets the focus.
	sdl.SetHint(sdl.HintNoSignalHandlers, "1")
	sdl.SetHint(sdl.HintMinimizeOnFocusLoss, "0")
	sdl.SetHint(sdl.HintRenderScaleQuality, "linear")
	if driver := displayDriver(runtime.GOOS, os.Getenv("DISPLAY"), os.Getenv("WAYLAND_DISPLAY")); driver != "" && os.Getenv("SDL_VIDEODRIVER") == "" {
		// Only the display the environment names: a failing X11 display
		// must not send SDL to Wayland, whose library prints its own
		// complaint on the terminal.
		sdl.SetHint(sdl.HintVideoDriver, driver)
	}
	if err := sdl.InitSubSystem(sdl.InitVideo); err != nil {
		s.initErr = &InitError{Display: displayName(), Reason: err.Error()}
		return s.initErr
	}
	if driver := sdl.CurrentVideoDriver(); driver == "offscreen" || driver == "dummy" {
		// No display server answered, and SDL fell back to drawing
		// where no one sees.
		sdl.QuitSubSystem(sdl.InitVideo)
		s.initErr = &InitError{Display: displayName(), Reason: "no display server answered"}
		return s.initErr
	}
	wake, err := sdl.RegisterEvents(1)
	if err != nil {
		sdl.QuitSubSystem(sdl.InitVideo)
		s.initErr = fmt.Errorf("open a window: %w", err)
		return s.initErr
	}
	s.wakeEvent = wake
	s.up.Store(true)
	return nil
}

// loadSDL loads SDL2's library, once; an error wrapping ErrNoSDL when it
// is not there.
func loadSDL() error {
	if err := sdl.Load(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoSDL, err)
	}
	return nil
}

// Open opens a window titled opts.Title, hidden until the first picture
// given to its Frame, which it shows at the picture's size. The window
// lives until the person closes it or Close is called.
func (s *Screen) Open(opts Options) (Viewer, error) {
	opts = opts.withDefaults()
	dec, err := decode.New(opts.Codec)
	if err != nil {
		return nil, err
	}
	w := &Window{s: s, log: opts.Logger, dec: dec, waitKey: true, done: make(chan struct{}), opened: time.Now(), title: opts.Title}
	w.sp = newSpeaker(s, opts.Logger, opts.Notice, func() { _ = s.do(w.setTitle) })
	var oerr error
	if err := s.do(func() { oerr = w.open(opts.Title) }); err != nil {
		oerr = err
	}
	if oerr != nil {
		dec.Close()
		return nil, oerr
	}
	return w, nil
}

// handle acts on one SDL event: the person's keys, clicks and close
// button, and what asks for a redraw.
func (s *Screen) handle(ev sdl.Event) {
	w := s.windows[ev.WindowID]
	if w == nil {
		return
	}
	switch ev.Type {
	case sdl.EventWindow:
		switch ev.WindowEvent {
		case sdl.WindowEventClose:
			w.closedByPerson()
		case sdl.WindowEventExposed, sdl.WindowEventResized, sdl.WindowEventShown:
			w.draw()
		}
	case sdl.EventKeyDown:
		if ev.Repeat != 0 {
			return
		}
		switch ev.Key {
		case sdl.KeyQ, sdl.KeyEscape:
			w.closedByPerson()
		case sdl.KeyF:
			w.toggleFullscreen()
		case sdl.KeyS:
			w.overlay = !w.overlay
			w.draw()
		case sdl.KeyM:
			muted := w.sp.toggleMute()
			w.log.Debug("view: sound", "muted", muted)
			w.setTitle()
		}
	case sdl.EventMouseButtonDown:
		if ev.Button == sdl.ButtonLeft && ev.Clicks == 2 {
			w.toggleFullscreen()
		}
	}
}

// heldPicture is a decoded picture waiting for the sound.
type heldPicture struct {
	due time.Time
	img *image.YCbCr
}

// Window is one window showing decoded pictures. Frame is called from
// one goroutine at a time; Done, Err and Close from any.
type Window struct {
	s   *Screen
	log *slog.Logger

	decMu   sync.Mutex // the decoder, against Close
	dec     decode.Decoder
	decDone bool // Close freed the decoder

	sp    *speaker // the window's sound
	title string   // the title Open was given

	// Used by Frame only.
	waitKey bool
	meter   meter
	opened  time.Time // when Open returned, for the first picture's debug line

	mu        sync.Mutex
	pending   *image.YCbCr // the newest picture not yet drawn
	pendingAt time.Time    // when pending was ready to be shown
	woken     bool         // the loop was woken for pending
	// held are pictures waiting for the sound (lip sync), oldest first;
	// each becomes pending when due.
	held []heldPicture
	figs figures      // for the overlay
	call *CallFigures // the session's figures, nil until given
	err  error

	presents presentTimes // from each picture ready to it shown

	done      chan struct{}
	doneOnce  sync.Once
	closeOnce sync.Once

	// The loop's thread only.
	id         uint32
	win        *sdl.Window
	ren        *sdl.Renderer
	tex        *sdl.Texture
	texW, texH int32
	shown      bool
	overlay    bool
	ovTex      *sdl.Texture
	ovText     string
	ovW, ovH   int32
}

// open takes the window Check made ready, or makes one, hidden, titled
// title; on the loop's thread.
func (w *Window) open(title string) error {
	if err := w.s.init(); err != nil {
		return err
	}
	sw := w.s.spare
	w.s.spare = nil
	if sw != nil {
		sw.win.SetTitle(title)
	} else {
		var err error
		if sw, err = newSDLWindow(title); err != nil {
			return err
		}
	}
	if name, err := sw.ren.Name(); err == nil {
		w.log.Debug("view: window made", "renderer", name, "sdl", sdl.Library())
	}
	w.win, w.ren, w.id = sw.win, sw.ren, sw.id
	w.s.windows[sw.id] = w
	return nil
}

// Frame decodes one frame of the window's codec and hands its picture to
// the window, replacing a picture not yet drawn. It never blocks on the
// window. data is not kept. A frame that fails to decode is skipped, and
// so is everything until the next keyframe.
func (w *Window) Frame(data []byte, keyFrame bool) { w.frame(data, keyFrame, 0, false) }

// frame is Frame, and FrameAt when timed.
func (w *Window) frame(data []byte, keyFrame bool, rtpTimestamp uint32, timed bool) {
	// waitKey and the decoder are the decoding side's, under decMu: Frame
	// may race with a late call after Close.
	w.decMu.Lock()
	if w.decDone || w.waitKey && !keyFrame {
		w.decMu.Unlock()
		return
	}
	decodeStart := time.Now()
	img, err := w.dec.Decode(data)
	decoded := time.Now()
	first := w.waitKey && err == nil
	if err != nil && !errors.Is(err, decode.ErrSkip) {
		w.waitKey = true
	} else if err == nil {
		w.waitKey = false
	}
	w.decMu.Unlock()
	switch {
	case errors.Is(err, decode.ErrSkip):
		return
	case err != nil:
		w.log.Debug("view: decode", "err", err)
		return
	}
	if first && w.log.Enabled(context.Background(), slog.LevelDebug) {
		w.log.Debug("view: first picture decoded", "after_open", time.Since(w.opened).Round(time.Millisecond),
			"decode", time.Since(decodeStart).Round(100*time.Microsecond))
	}
	figs, changed := w.meter.add(time.Now(), len(data), img.Rect.Dx(), img.Rect.Dy())
	lag := w.sp.pictureWait(rtpTimestamp, timed, time.Now())
	w.mu.Lock()
	if lag > 0 || len(w.held) > 0 {
		w.held = append(w.held, heldPicture{due: time.Now().Add(lag), img: img})
	} else {
		if w.pending != nil {
			w.presents.drop(1)
		}
		w.pending, w.pendingAt = img, decoded
	}
	if changed {
		w.figs = figs
	}
	wake := !w.woken
	w.woken = true
	w.mu.Unlock()
	if wake {
		w.s.wake()
	}
}

// Audio plays one audio packet of codec c with its RTP timestamp
// (session.Speaker): packets go into a jitter buffer and are decoded
// into the speaker in turn. It never blocks on the device and does not
// keep packet. Without a sound output the packets are dropped, and
// Options.Notice is told once.
func (w *Window) Audio(c codec.Descriptor, packet []byte, rtpTimestamp uint32) {
	w.sp.Audio(c, packet, rtpTimestamp)
}

// Sound returns the speaker's figures; false before the first audio
// packet.
func (w *Window) Sound() (SoundFigures, bool) { return w.sp.figures() }

// PresentDelay returns the window's own delay (session.Presenter):
// percentiles (p50, p95) of the time from each picture ready (decoded,
// or done waiting for its sound) to the return of the present call that
// first showed it, over the latest 150 pictures shown (the whole call
// when total), and the pictures shown and dropped (replaced by a newer
// one before they were shown) since the window opened.
func (w *Window) PresentDelay(total bool) (p50, p95 time.Duration, shown, dropped uint64) {
	f := w.presents.figures(total)
	return f.P50, f.P95, f.Presented, f.Dropped
}

// setTitle sets the window's title: Open's, and whether the sound is
// muted or has no output; on the loop's thread.
func (w *Window) setTitle() {
	if w.win == nil {
		return
	}
	t := w.title
	switch {
	case w.sp.silent.Load():
		t += " · no sound"
	case w.sp.muted.Load():
		t += " · muted"
	}
	w.win.SetTitle(t)
}

// Figures gives the overlay the call's own figures, shown from the next
// picture on.
func (w *Window) Figures(f CallFigures) {
	w.mu.Lock()
	w.call = &f
	w.mu.Unlock()
}

// drawPending draws the newest picture, if one came since the last.
func (w *Window) drawPending() {
	w.mu.Lock()
	now := time.Now()
	var due time.Time
	for len(w.held) > 0 && !w.held[0].due.After(now) {
		// The newest picture due; older ones are never drawn.
		if w.pending != nil {
			w.presents.drop(1)
		}
		w.pending, due = w.held[0].img, w.held[0].due
		w.pendingAt = due
		w.held = w.held[1:]
	}
	img, ready := w.pending, w.pendingAt
	w.pending, w.woken = nil, false
	w.mu.Unlock()
	if img == nil || w.win == nil {
		return
	}
	if !due.IsZero() {
		// How late after its time a held picture reaches the screen.
		defer func() { w.sp.shownLate(time.Since(due)) }()
	}
	width, height := int32(img.Rect.Dx()), int32(img.Rect.Dy())
	if w.tex == nil || width != w.texW || height != w.texH {
		if w.tex != nil {
			w.tex.Destroy()
			w.tex = nil
		}
		tex, err := w.ren.CreateTexture(sdl.PixelFormatIYUV, sdl.TextureAccessStream, width, height)
		if err != nil {
			w.fail(fmt.Errorf("a %dx%d picture: %w", width, height, err))
			return
		}
		w.tex, w.texW, w.texH = tex, width, height
	}
	yo := img.YOffset(img.Rect.Min.X, img.Rect.Min.Y)
	co := img.COffset(img.Rect.Min.X, img.Rect.Min.Y)
	if err := w.tex.UpdateYUV(nil, img.Y[yo:], img.YStride, img.Cb[co:], img.CStride, img.Cr[co:], img.CStride); err != nil {
		w.fail(fmt.Errorf("a %dx%d picture: %w", width, height, err))
		return
	}
	if !w.shown {
		// The first picture: the window takes its size and shows.
		start := time.Now()
		w.win.SetSize(width, height)
		w.win.SetPosition(sdl.WindowPosCentered, sdl.WindowPosCentered)
		w.win.Show()
		w.shown = true
		w.draw()
		w.presents.shown(time.Since(ready))
		w.log.Debug("view: first picture shown", "size", fmt.Sprintf("%dx%d", width, height),
			"show_and_draw", time.Since(start).Round(100*time.Microsecond))
		return
	}
	w.draw()
	w.presents.shown(time.Since(ready))
}

// draw draws the last picture, letterboxed, and the overlay.
func (w *Window) draw() {
	if w.win == nil || w.tex == nil {
		return
	}
	ow, oh, err := w.ren.OutputSize()
	if err != nil {
		w.log.Debug("view: output size", "err", err)
		return
	}
	dst := letterbox(w.texW, w.texH, ow, oh)
	_ = w.ren.SetDrawColor(0, 0, 0, 255)
	_ = w.ren.Clear()
	r := sdl.Rect{X: int32(dst.Min.X), Y: int32(dst.Min.Y), W: int32(dst.Dx()), H: int32(dst.Dy())}
	if err := w.ren.Copy(w.tex, nil, &r); err != nil {
		w.log.Debug("view: draw", "err", err)
	}
	if w.overlay {
		w.drawOverlay(oh)
	}
	w.ren.Present()
}

// drawOverlay draws the figures at the bottom left (the picture's top
// rows carry the test pattern's stamp).
func (w *Window) drawOverlay(outH int32) {
	var sound *SoundFigures
	if f, ok := w.sp.figures(); ok {
		sound = &f
	}
	w.mu.Lock()
	text := overlayText(w.figs, w.call, sound)
	w.mu.Unlock()
	if text != w.ovText || w.ovTex == nil {
		if w.ovTex != nil {
			w.ovTex.Destroy()
			w.ovTex = nil
		}
		img := renderText(text)
		tex, err := w.ren.CreateTexture(sdl.PixelFormatRGBA32, sdl.TextureAccessStatic, int32(img.Rect.Dx()), int32(img.Rect.Dy()))
		if err != nil {
			w.log.Debug("view: overlay", "err", err)
			return
		}
		if err := tex.Update(nil, img.Pix, img.Stride); err != nil {
			tex.Destroy()
			w.log.Debug("view: overlay", "err", err)
			return
		}
		_ = tex.SetBlendMode(sdl.BlendModeBlend)
		w.ovTex, w.ovText, w.ovW, w.ovH = tex, text, int32(img.Rect.Dx()), int32(img.Rect.Dy())
	}
	r := sdl.Rect{X: 8, Y: outH - w.ovH - 8, W: w.ovW, H: w.ovH}
	_ = w.ren.Copy(w.ovTex, nil, &r)
}

// toggleFullscreen switches between a window and the whole screen.
func (w *Window) toggleFullscreen() {
	if w.win == nil {
		return
	}
	var flags uint32
	if w.win.Flags()&sdl.WindowFullscreen == 0 {
		flags = sdl.WindowFullscreenDesktop
	}
	if err := w.win.SetFullscreen(flags); err != nil {
		w.log.Debug("view: full screen", "err", err)
	}
	w.draw()
}

// closedByPerson closes the window at the person's request.
func (w *Window) closedByPerson() {
	w.log.Debug("view: the window was closed")
	w.destroy()
	w.finish(nil)
}

// fail closes the window for err.
func (w *Window) fail(err error) {
	w.log.Debug("view: window failed", "err", err)
	w.destroy()
	w.finish(err)
}

// destroy frees the window's SDL objects; on the loop's thread.
func (w *Window) destroy() {
	if w.win == nil {
		return
	}
	for _, t := range []*sdl.Texture{w.ovTex, w.tex} {
		if t != nil {
			t.Destroy()
		}
	}
	w.ovTex, w.tex = nil, nil
	w.ren.Destroy()
	w.win.Destroy()
	w.win, w.ren = nil, nil
	delete(w.s.windows, w.id)
}

// finish ends the window with err (nil: closed by the person or Close).
func (w *Window) finish(err error) {
	w.doneOnce.Do(func() {
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		close(w.done)
	})
}

// Done is closed when the window has ended: closed by the person (Err is
// nil), failed (Err says why), or closed by Close.
func (w *Window) Done() <-chan struct{} { return w.done }

// Err says why the window failed, once Done is closed; nil when the
// person or Close closed it.
func (w *Window) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close closes the window, waits until it is gone, frees the decoder and
// returns Err. It may be called more than once.
func (w *Window) Close() error {
	w.closeOnce.Do(func() {
		if err := w.s.do(w.destroy); err != nil {
			w.log.Debug("view: close", "err", err)
		}
		w.finish(nil)
		w.sp.close()
		w.decMu.Lock()
		w.decDone = true
		w.dec.Close()
		w.decMu.Unlock()
		w.mu.Lock()
		w.pending, w.held = nil, nil
		w.mu.Unlock()
	})
	return w.Err()
}
