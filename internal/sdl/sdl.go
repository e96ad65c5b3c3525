//go:build cgo

package sdl

/*
#cgo linux LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// SDL's values this package's callers pass or compare (shim.h).
const (
	InitAudio = uint32(C.PSDL_INIT_AUDIO)
	InitVideo = uint32(C.PSDL_INIT_VIDEO)

	WindowPosCentered       = int32(C.PSDL_WINDOWPOS_CENTERED)
	WindowFullscreen        = uint32(C.PSDL_WINDOW_FULLSCREEN)
	WindowHidden            = uint32(C.PSDL_WINDOW_HIDDEN)
	WindowResizable         = uint32(C.PSDL_WINDOW_RESIZABLE)
	WindowFullscreenDesktop = uint32(C.PSDL_WINDOW_FULLSCREEN_DESKTOP)

	EventWindow          = uint32(C.PSDL_WINDOWEVENT)
	EventKeyDown         = uint32(C.PSDL_KEYDOWN)
	EventMouseButtonDown = uint32(C.PSDL_MOUSEBUTTONDOWN)
	WindowEventShown     = uint8(C.PSDL_WINDOWEVENT_SHOWN)
	WindowEventExposed   = uint8(C.PSDL_WINDOWEVENT_EXPOSED)
	WindowEventResized   = uint8(C.PSDL_WINDOWEVENT_SIZE_CHANGED)
	WindowEventClose     = uint8(C.PSDL_WINDOWEVENT_CLOSE)

	KeyEscape  = int32(C.PSDL_K_ESCAPE)
	KeyF       = int32(C.PSDL_K_F)
	KeyM       = int32(C.PSDL_K_M)
	KeyQ       = int32(C.PSDL_K_Q)
	KeyS       = int32(C.PSDL_K_S)
	ButtonLeft = uint8(C.PSDL_BUTTON_LEFT)

	PixelFormatIYUV     = uint32(C.PSDL_PIXELFORMAT_IYUV)
	PixelFormatRGBA32   = uint32(C.PSDL_PIXELFORMAT_RGBA32)
	TextureAccessStatic = int(C.PSDL_TEXTUREACCESS_STATIC)
	TextureAccessStream = int(C.PSDL_TEXTUREACCESS_STREAMING)
	BlendModeBlend      = int(C.PSDL_BLENDMODE_BLEND)

	AudioS16LSB = uint16(C.PSDL_AUDIO_S16LSB)
)

// The hints the window and the speaker set (SDL_hints.h: a hint's name is
// its environment variable's).
const (
	HintNoSignalHandlers    = "SDL_NO_SIGNAL_HANDLERS"
	HintMinimizeOnFocusLoss = "SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS"
	HintRenderScaleQuality  = "SDL_RENDER_SCALE_QUALITY"
	HintVideoDriver         = "SDL_VIDEODRIVER"
	HintAudioDriver         = "SDL_AUDIODRIVER"
)

// LoadError means SDL2's library could not be loaded: it is not
// installed, or it lacks a function (older than SDL 2.0.4).
type LoadError struct {
	Names  []string // the library names tried, in order
	Reason string   // the dynamic loader's words
}

func (e *LoadError) Error() string { return "load SDL2: " + e.Reason }

var (
	loadOnce sync.Once
	loadErr  error
)

// Load opens SDL2's library and resolves the functions this package
// calls. It does so once: later calls return the first one's result.
// Every other function of the package may be called only after Load
// returned nil.
func Load() error {
	loadOnce.Do(func() { loadErr = load(LibraryNames(runtime.GOOS)) })
	return loadErr
}

// LibraryNames are the names Load gives dlopen on goos, in order: SDL2's
// runtime library (its soname), then where Homebrew puts it on a Mac
// (dlopen does not look in /opt/homebrew/lib by itself).
func LibraryNames(goos string) []string {
	if goos == "darwin" || goos == "ios" {
		var names []string
		for _, dir := range []string{"", "/opt/homebrew/lib/", "/usr/local/lib/"} {
			names = append(names, dir+"libSDL2-2.0.0.dylib", dir+"libSDL2.dylib")
		}
		return names
	}
	// The soname, then the development link (where a BSD or a distribution
	// names the runtime file otherwise).
	return []string{"libSDL2-2.0.so.0", "libSDL2.so"}
}

// load tries names in turn.
func load(names []string) error {
	if len(names) == 0 {
		return &LoadError{Reason: "no library name to try"}
	}
	cnames := make([]*C.char, len(names))
	for i, n := range names {
		cnames[i] = C.CString(n)
	}
	defer func() {
		for _, c := range cnames {
			C.free(unsafe.Pointer(c))
		}
	}()
	if why := C.psdl_load(&cnames[0], C.int(len(cnames))); why != nil {
		return &LoadError{Names: names, Reason: C.GoString(why)}
	}
	return nil
}

// Library names the library Load opened, and its version, e.g.
// "libSDL2-2.0.so.0 2.26.5".
func Library() string {
	var v C.psdl_version
	C.pSDL_GetVersion(&v)
	return fmt.Sprintf("%s %d.%d.%d", C.GoString(C.psdl_loaded_from()), v.major, v.minor, v.patch)
}

// sdlError is SDL's word on the call that just failed on this thread.
func sdlError() error {
	msg := C.GoString(C.pSDL_GetError())
	if msg == "" {
		msg = "unknown SDL error"
	}
	return errors.New(msg)
}

// check runs call, which returns SDL's status (negative: failed), and
// returns SDL's error on failure. SDL keeps its error per thread: the
// goroutine stays on one thread from the call to reading the error.
func check(call func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if call() < 0 {
		return sdlError()
	}
	return nil
}

// made runs call, which returns an SDL object (nil: failed), and returns
// it or SDL's error.
func made(call func() unsafe.Pointer) (unsafe.Pointer, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := call()
	if p == nil {
		return nil, sdlError()
	}
	return p, nil
}

// SetHint sets a hint at SDL's normal priority; false if SDL refused.
func SetHint(name, value string) bool {
	cn, cv := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cv))
	return C.pSDL_SetHint(cn, cv) != 0
}

// SetHintOverride sets a hint over the environment's value.
func SetHintOverride(name, value string) bool {
	cn, cv := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cv))
	return C.pSDL_SetHintWithPriority(cn, cv, C.PSDL_HINT_OVERRIDE) != 0
}

// InitSubSystem starts SDL's subsystems in flags (InitVideo, InitAudio).
func InitSubSystem(flags uint32) error {
	return check(func() C.int { return C.pSDL_InitSubSystem(C.uint32_t(flags)) })
}

// QuitSubSystem shuts down SDL's subsystems in flags.
func QuitSubSystem(flags uint32) { C.pSDL_QuitSubSystem(C.uint32_t(flags)) }

// Quit shuts SDL down.
func Quit() { C.pSDL_Quit() }

// CurrentVideoDriver names the video driver SDL started ("x11",
// "wayland", "cocoa", ...); "" before InitSubSystem(InitVideo).
func CurrentVideoDriver() string { return goString(C.pSDL_GetCurrentVideoDriver()) }

// CurrentAudioDriver names the audio driver SDL started; "" before
// InitSubSystem(InitAudio).
func CurrentAudioDriver() string { return goString(C.pSDL_GetCurrentAudioDriver()) }

func goString(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// RegisterEvents reserves n event types of the program's own and
// returns the first.
func RegisterEvents(n int) (uint32, error) {
	t := uint32(C.pSDL_RegisterEvents(C.int(n)))
	if t == ^uint32(0) {
		return 0, errors.New("SDL has no event types left to register")
	}
	return t, nil
}

// Event is what the window's loop reads of an SDL event: its type, the
// window it is for, and the fields of a window, key or mouse button event.
type Event struct {
	Type     uint32
	WindowID uint32
	// WindowEvent is what happened to the window (EventWindow).
	WindowEvent uint8
	// Key and Repeat are the key's code and whether it is a repeat
	// (EventKeyDown).
	Key    int32
	Repeat uint8
	// Button and Clicks are the mouse button and its count of clicks
	// (EventMouseButtonDown).
	Button, Clicks uint8
}

// event reads ev's fields for its type.
func event(ev *C.psdl_event) Event {
	p := unsafe.Pointer(ev)
	e := Event{Type: uint32(*(*C.uint32_t)(p))}
	switch e.Type {
	case EventWindow:
		w := (*C.psdl_window_event)(p)
		e.WindowID, e.WindowEvent = uint32(w.window_id), uint8(w.event)
	case EventKeyDown:
		k := (*C.psdl_keyboard_event)(p)
		e.WindowID, e.Key, e.Repeat = uint32(k.window_id), int32(k.keysym.sym), uint8(k.repeat)
	case EventMouseButtonDown:
		b := (*C.psdl_mouse_button_event)(p)
		e.WindowID, e.Button, e.Clicks = uint32(b.window_id), uint8(b.button), uint8(b.clicks)
	}
	return e
}

// WaitEventTimeout waits up to ms milliseconds for an event and takes
// it; false when none came.
func WaitEventTimeout(ms int) (Event, bool) {
	var ev C.psdl_event
	if C.pSDL_WaitEventTimeout(&ev, C.int(ms)) == 0 {
		return Event{}, false
	}
	return event(&ev), true
}

// PollEvent takes an event if there is one.
func PollEvent() (Event, bool) {
	var ev C.psdl_event
	if C.pSDL_PollEvent(&ev) == 0 {
		return Event{}, false
	}
	return event(&ev), true
}

// PushUserEvent puts an event of type t (one of RegisterEvents') on
// SDL's queue, which wakes a WaitEventTimeout. It may be called from any
// thread.
func PushUserEvent(t uint32) error {
	var ev C.psdl_event
	u := (*C.psdl_user_event)(unsafe.Pointer(&ev))
	u._type = C.uint32_t(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	switch C.pSDL_PushEvent(&ev) {
	case 1:
		return nil
	case 0:
		return errors.New("SDL filtered the event out")
	}
	return sdlError()
}

// Rect is a rectangle in pixels.
type Rect struct{ X, Y, W, H int32 }

// c returns r as SDL's rectangle, nil for nil (the whole texture or
// target).
func (r *Rect) c() *C.psdl_rect {
	if r == nil {
		return nil
	}
	return &C.psdl_rect{x: C.int(r.X), y: C.int(r.Y), w: C.int(r.W), h: C.int(r.H)}
}

// Window is an SDL window.
type Window C.psdl_window

func (w *Window) c() *C.psdl_window { return (*C.psdl_window)(w) }

// CreateWindow makes a window titled title (UTF-8) at x, y (or
// WindowPosCentered), w×h pixels, with flags (WindowHidden, ...).
func CreateWindow(title string, x, y, w, h int32, flags uint32) (*Window, error) {
	ct := C.CString(title)
	defer C.free(unsafe.Pointer(ct))
	p, err := made(func() unsafe.Pointer {
		return unsafe.Pointer(C.pSDL_CreateWindow(ct, C.int(x), C.int(y), C.int(w), C.int(h), C.uint32_t(flags)))
	})
	return (*Window)(p), err
}

// Destroy closes the window.
func (w *Window) Destroy() { C.pSDL_DestroyWindow(w.c()) }

// ID is the window's id, which its events carry.
func (w *Window) ID() (uint32, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	id := uint32(C.pSDL_GetWindowID(w.c()))
	if id == 0 {
		return 0, sdlError()
	}
	return id, nil
}

// Flags are the window's state (WindowFullscreen, ...).
func (w *Window) Flags() uint32 { return uint32(C.pSDL_GetWindowFlags(w.c())) }

// SetTitle sets the window's title (UTF-8).
func (w *Window) SetTitle(title string) {
	ct := C.CString(title)
	defer C.free(unsafe.Pointer(ct))
	C.pSDL_SetWindowTitle(w.c(), ct)
}

// SetSize sets the window's inner size.
func (w *Window) SetSize(width, height int32) {
	C.pSDL_SetWindowSize(w.c(), C.int(width), C.int(height))
}

// SetPosition moves the window (WindowPosCentered centres it).
func (w *Window) SetPosition(x, y int32) { C.pSDL_SetWindowPosition(w.c(), C.int(x), C.int(y)) }

// Show shows a hidden window.
func (w *Window) Show() { C.pSDL_ShowWindow(w.c()) }

// SetFullscreen sets the window full screen (WindowFullscreenDesktop)
// or back to a window (0).
func (w *Window) SetFullscreen(flags uint32) error {
	return check(func() C.int { return C.pSDL_SetWindowFullscreen(w.c(), C.uint32_t(flags)) })
}

// Renderer draws into a window.
type Renderer C.psdl_renderer

func (r *Renderer) c() *C.psdl_renderer { return (*C.psdl_renderer)(r) }

// CreateRenderer makes a renderer for w: index -1 and flags 0 let SDL
// pick the best there is.
func CreateRenderer(w *Window, index int, flags uint32) (*Renderer, error) {
	p, err := made(func() unsafe.Pointer {
		return unsafe.Pointer(C.pSDL_CreateRenderer(w.c(), C.int(index), C.uint32_t(flags)))
	})
	return (*Renderer)(p), err
}

// Destroy frees the renderer and its textures.
func (r *Renderer) Destroy() { C.pSDL_DestroyRenderer(r.c()) }

// Name names the renderer ("opengl", "software", ...).
func (r *Renderer) Name() (string, error) {
	var info C.psdl_renderer_info
	if err := check(func() C.int { return C.pSDL_GetRendererInfo(r.c(), &info) }); err != nil {
		return "", err
	}
	return goString(info.name), nil
}

// OutputSize is the size in pixels the renderer draws at.
func (r *Renderer) OutputSize() (w, h int32, err error) {
	var cw, ch C.int
	err = check(func() C.int { return C.pSDL_GetRendererOutputSize(r.c(), &cw, &ch) })
	return int32(cw), int32(ch), err
}

// SetDrawColor sets the colour Clear paints.
func (r *Renderer) SetDrawColor(red, green, blue, alpha uint8) error {
	return check(func() C.int {
		return C.pSDL_SetRenderDrawColor(r.c(), C.uint8_t(red), C.uint8_t(green), C.uint8_t(blue), C.uint8_t(alpha))
	})
}

// Clear paints the whole target in the draw colour.
func (r *Renderer) Clear() error {
	return check(func() C.int { return C.pSDL_RenderClear(r.c()) })
}

// Copy draws src of t (nil: all of it) scaled into dst (nil: the whole
// target).
func (r *Renderer) Copy(t *Texture, src, dst *Rect) error {
	cs, cd := src.c(), dst.c()
	return check(func() C.int { return C.pSDL_RenderCopy(r.c(), t.c(), cs, cd) })
}

// Present shows what was drawn since the last Present.
func (r *Renderer) Present() { C.pSDL_RenderPresent(r.c()) }

// Texture is a picture the renderer draws from.
type Texture C.psdl_texture

func (t *Texture) c() *C.psdl_texture { return (*C.psdl_texture)(t) }

// CreateTexture makes a w×h texture of format (PixelFormatIYUV, ...)
// with access (TextureAccessStream, TextureAccessStatic).
func (r *Renderer) CreateTexture(format uint32, access int, w, h int32) (*Texture, error) {
	p, err := made(func() unsafe.Pointer {
		return unsafe.Pointer(C.pSDL_CreateTexture(r.c(), C.uint32_t(format), C.int(access), C.int(w), C.int(h)))
	})
	return (*Texture)(p), err
}

// Destroy frees the texture.
func (t *Texture) Destroy() { C.pSDL_DestroyTexture(t.c()) }

// Update replaces rect of the texture (nil: all of it) with pixels, pitch
// bytes a row.
func (t *Texture) Update(rect *Rect, pixels []byte, pitch int) error {
	if len(pixels) == 0 {
		return errors.New("no pixels")
	}
	cr := rect.c()
	return check(func() C.int {
		return C.pSDL_UpdateTexture(t.c(), cr, unsafe.Pointer(&pixels[0]), C.int(pitch))
	})
}

// UpdateYUV replaces rect of an I420 texture (nil: all of it) with the
// three planes, each with its pitch.
func (t *Texture) UpdateYUV(rect *Rect, y []byte, yPitch int, u []byte, uPitch int, v []byte, vPitch int) error {
	if len(y) == 0 || len(u) == 0 || len(v) == 0 {
		return errors.New("an empty plane")
	}
	cr := rect.c()
	return check(func() C.int {
		return C.pSDL_UpdateYUVTexture(t.c(), cr,
			(*C.uint8_t)(&y[0]), C.int(yPitch), (*C.uint8_t)(&u[0]), C.int(uPitch), (*C.uint8_t)(&v[0]), C.int(vPitch))
	})
}

// SetBlendMode sets how the texture is drawn over what is there
// (BlendModeBlend: by its alpha).
func (t *Texture) SetBlendMode(mode int) error {
	return check(func() C.int { return C.pSDL_SetTextureBlendMode(t.c(), C.psdl_blend_mode(mode)) })
}

// AudioDeviceID is an open sound device.
type AudioDeviceID uint32

// AudioSpec is a sound format: Freq samples a second of Format
// (AudioS16LSB), Channels, in device periods of Samples.
type AudioSpec struct {
	Freq     int32
	Format   uint16
	Channels uint8
	Samples  uint16
}

// OpenAudioDevice opens the default sound output in exactly the format
// want, fed by QueueAudio (no callback), paused.
func OpenAudioDevice(want AudioSpec) (AudioDeviceID, error) {
	cw := C.psdl_audio_spec{freq: C.int(want.Freq), format: C.uint16_t(want.Format),
		channels: C.uint8_t(want.Channels), samples: C.uint16_t(want.Samples)}
	var got C.psdl_audio_spec
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dev := C.pSDL_OpenAudioDevice(nil, 0, &cw, &got, 0)
	if dev == 0 {
		return 0, sdlError()
	}
	return AudioDeviceID(dev), nil
}

// CloseAudioDevice closes dev.
func CloseAudioDevice(dev AudioDeviceID) { C.pSDL_CloseAudioDevice(C.psdl_audio_device_id(dev)) }

// PauseAudioDevice pauses dev, or starts it playing.
func PauseAudioDevice(dev AudioDeviceID, pause bool) {
	p := C.int(0)
	if pause {
		p = 1
	}
	C.pSDL_PauseAudioDevice(C.psdl_audio_device_id(dev), p)
}

// GetQueuedAudioSize is how many bytes dev has queued, not yet played.
// It may be called from any thread.
func GetQueuedAudioSize(dev AudioDeviceID) uint32 {
	return uint32(C.pSDL_GetQueuedAudioSize(C.psdl_audio_device_id(dev)))
}

// QueueAudio queues data (in dev's format) to play after what is
// queued. It may be called from any thread.
func QueueAudio(dev AudioDeviceID, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	return check(func() C.int {
		return C.pSDL_QueueAudio(C.psdl_audio_device_id(dev), unsafe.Pointer(&data[0]), C.uint32_t(len(data)))
	})
}
