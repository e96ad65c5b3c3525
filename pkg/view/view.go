// Package view shows received video to a person in a window of p2pcam's
// own, at the very end of the receive pipeline: each video frame the
// recorder writes is decoded here, by the decoder of the codec the window
// is given (Options.Codec), and its I420 picture goes straight into a
// streaming YUV texture that SDL's renderer scales to the window (the GPU
// where there is one; no conversion on the CPU, no pipe, no player
// process).
//
// There is no clock of the window's own: a picture is drawn the moment it
// is decoded. Frame decodes on the caller's goroutine and leaves the
// picture in a slot of one, replacing any picture the window has not yet
// drawn, so a window that cannot keep up shows the newest picture, never
// a backlog.
//
// SDL (Cocoa on macOS) must own the process's main OS thread: RunMain,
// called from main, locks it and runs every window's loop there, while
// the program itself runs on another goroutine with a *Screen to open
// windows from. Nothing touches SDL until Check or Open is called, so a
// program that shows no window never initializes it. The windows' loop
// sleeps in SDL's event wait; a new picture, or a call from another
// goroutine, wakes it with an event of its own.
//
// A window opens hidden, titled, when the call connects (Open), and shows
// at the picture's own size with the first picture; resizing keeps the
// picture's aspect (black bars), `f` or a double-click toggles full
// screen, `s` toggles a small overlay of figures (size, pictures per
// second, bitrate, the call's round trip and losses, the sound's jitter
// buffer depth, packets rebuilt and concealed, muted, and lip sync), `m` mutes the sound, and `q`, Esc or the window's
// close button close it, which Done reports with a nil Err.
//
// The window also plays the call's sound (Window.Audio, which a session
// calls with every packet of the first audio track and its RTP
// timestamp): the packets go into a jitter buffer ordered by timestamp
// that starts playing at its target depth (40 ms, or three times the
// arrival jitter and a frame, up to 80 ms) and never holds more than
// 100 ms: it drops the oldest past that and packets later than their
// turn; while deeper than the target it catches up by playing pauses
// shorter (a decoded frame under -40 dBFS left out), and by leaving a
// packet out only when far deeper. A missing packet is rebuilt from the next one's in-band FEC
// when that one is there, else concealed by the decoder. A goroutine of
// the speaker's own, driven by the device (not the wall clock), decodes
// the packets in turn into SDL's audio queue, kept about 20 ms full. SDL's
// audio starts on the loop's thread with the first packet, through the
// sound servers (PipeWire, PulseAudio; ALSA only where there is a sound
// card, as its library prints a dozen lines where there is none);
// without one the sound is dropped, Options.Notice is told once and the
// title says "no sound". `m` mutes (silence goes on being queued, so the
// timing holds) and the title says "muted".
//
// Lip sync, by the sender's clock: the session hands the window each
// frame's RTP timestamp (FrameAt) and both streams' RTCP sender reports
// (SenderReport), which map the two RTP clocks to the sender's wall
// clock. The speaker follows which sample the device is playing (what it
// was handed, less SDL's queue and the device's own buffer), so a decoded
// picture waits until the sound captured at its instant is heard (less
// the time a held picture takes to reach the screen, a running average):
// at most 100 ms (the jitter buffer's limit), and a picture later than
// its sound is shown at once; the sound is never held back for the
// picture.
// Until both reports have come, a picture waits as long as the sound
// takes from arrival to the device (the jitter buffer's depth and the
// device's queue), at most 100 ms.
//
// The package knows nothing of sessions or flags; it needs the codec's
// decoder in this build (package decode), a build with cgo, SDL2's library
// installed (loaded at run time, on the first Check or Open: the binary
// does not link it), and a display: Check says what is missing.
package view

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/decode"
)

// ErrNoDisplay means there is no display to open a window on: on Linux
// and the other Unixes, neither $DISPLAY nor $WAYLAND_DISPLAY is set.
var ErrNoDisplay = errors.New("no display: neither DISPLAY nor WAYLAND_DISPLAY is set")

// ErrNoDecoder means this build has no decoder for the codec: it was built
// without cgo. It is decode.ErrNoDecoder.
var ErrNoDecoder = decode.ErrNoDecoder

// ErrNoWindows means this build cannot open windows: it was built without
// cgo (which loading SDL2 needs) or with the nosdl tag.
var ErrNoWindows = errors.New("this build has no windows: it was built without cgo or with the nosdl tag")

// ErrNoSDL means SDL2's library, which windows need, is not installed
// here. p2pcam does not link SDL2: it loads the library when a window is
// first asked for (package internal/sdl), so that every other command
// runs without it.
var ErrNoSDL = errors.New("SDL2 is not installed")

// ErrClosed means the window, or the Screen's loop, is closed.
var ErrClosed = errors.New("the window was closed")

// InitError means SDL could not start its video on the display (no X
// server behind $DISPLAY, no video driver): Display names the display
// the environment gave, Reason is SDL's own word.
type InitError struct{ Display, Reason string }

func (e *InitError) Error() string {
	return fmt.Sprintf("cannot open a window on %s: SDL: %s", e.Display, e.Reason)
}

// displayName names the display the environment gives, for messages.
func displayName() string {
	if d := os.Getenv("DISPLAY"); d != "" {
		return "DISPLAY=" + d
	}
	if d := os.Getenv("WAYLAND_DISPLAY"); d != "" {
		return "WAYLAND_DISPLAY=" + d
	}
	return "this display"
}

// Options configure a window.
type Options struct {
	// Title is the window's title (UTF-8).
	Title string
	// Codec is the codec of the frames given to Frame; the zero value
	// means the preferred video codec (package codecs).
	Codec codec.Descriptor
	// Logger receives debug records (decode errors, the renderer's
	// choice); nil discards them.
	Logger *slog.Logger
	// Notice, when not nil, is told what the person should hear of once,
	// in a sentence: that the call's sound cannot be played (no sound
	// server). It is called from the speaker's goroutine.
	Notice func(string)
}

// SoundFigures are a window's figures of the call's sound.
type SoundFigures struct {
	// Delay is the sound's delay from arrival to the device's output
	// buffer: the jitter buffer's depth and SDL's queue.
	Delay time.Duration
	// Target is the depth the jitter buffer aims at now, and Buffered
	// its depth.
	Target, Buffered time.Duration
	// Skew is how much later than its sound, by the sender's clock, the
	// last picture was shown (negative: earlier), once Synced: both
	// streams' sender reports have come and the sound plays.
	Skew   time.Duration
	Synced bool
	// Packets counts the packets taken; Recovered the lost ones rebuilt
	// from the next packet's FEC data; Concealed those made up; Late
	// those that came after their turn and Dropped those past the
	// buffer's limit, both dropped.
	Packets, Recovered, Concealed, Late, Dropped uint64
	Muted                                        bool // `m` muted the sound
	Silent                                       bool // there is no sound output
}

// Viewer is a window as its caller feeds it (session.Viewer): Frame from
// one goroutine at a time, the rest from any.
type Viewer interface {
	// Frame decodes one frame of the window's codec and hands its picture
	// to the window, replacing a picture not yet drawn. It never blocks on
	// the window and does not keep data.
	Frame(data []byte, keyFrame bool)
	// Done is closed when the window has ended: closed by the person (Err
	// is nil), failed (Err says why), or closed by Close.
	Done() <-chan struct{}
	// Err says why the window failed, once Done is closed.
	Err() error
	// Figures gives the overlay the call's own figures; it never blocks.
	Figures(CallFigures)
	// Close closes the window, waits until it is gone and frees its
	// decoder; it returns Err and may be called more than once.
	Close() error
}

// CallFigures are figures of the call the window cannot see for itself
// (the session's), shown in its overlay beside its own.
type CallFigures struct {
	RTT         time.Duration // the round trip to the other side
	PacketsLost int64         // RTP packets lost since the call connected
}

// checkEnv reports what a window would lack before SDL is asked: a
// display named in the environment, and a decoder for the preferred
// video codec.
func checkEnv() error {
	if needsDisplayEnv(runtime.GOOS) && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return ErrNoDisplay
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

// displayDriver is the SDL video driver for the display the environment
// names on goos: "x11" when only $DISPLAY is set, "wayland" when only
// $WAYLAND_DISPLAY is; "" lets SDL choose.
func displayDriver(goos, display, wayland string) string {
	if !needsDisplayEnv(goos) {
		return ""
	}
	switch {
	case display != "" && wayland == "":
		return "x11"
	case display == "" && wayland != "":
		return "wayland"
	}
	return ""
}

// withDefaults fills in opts' zero values.
func (opts Options) withDefaults() Options {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Codec.MimeType == "" {
		opts.Codec, _ = codecs.Default(codec.Video)
	}
	return opts
}
