//go:build cgo

package capture

// #include <stdlib.h>
import "C"

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gen2brain/malgo"
	"github.com/pion/mediadevices/pkg/wave"
)

// Microphones go through miniaudio (github.com/gen2brain/malgo), which
// loads the system's sound library at run time: nothing to link, no -dev
// package to build with. It is told to use only the sound server people
// run (PulseAudio, which PipeWire serves too, on Linux and the BSDs;
// CoreAudio on macOS): its ALSA and JACK back ends would print a dozen
// error lines on a machine without sound and list ALSA's plugins as
// microphones. miniaudio's log callback is left unset, so it says
// nothing, and it never starts a sound server itself.

// micSampleRate and micChunk are what the microphone delivers: 48 kHz
// mono, 20 ms at a time (the sound server converts).
const (
	micSampleRate = 48000
	micChunk      = micSampleRate / 50
)

// micBackends lists the sound systems p2pcam captures through.
func micBackends() []malgo.Backend {
	switch runtime.GOOS {
	case "darwin", "ios":
		return []malgo.Backend{malgo.BackendCoreaudio}
	case "windows":
		return []malgo.Backend{malgo.BackendWasapi}
	}
	return []malgo.Backend{malgo.BackendPulseaudio}
}

// micContext connects to the sound server; it fails with ErrNoSoundServer
// when there is none.
func micContext() (*malgo.AllocatedContext, error) {
	ctx, err := malgo.InitContext(micBackends(), malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSoundServer, soundServerHint())
	}
	return ctx, nil
}

// soundServerHint says what was looked for.
func soundServerHint() string {
	switch runtime.GOOS {
	case "darwin", "ios":
		return "CoreAudio is not available"
	case "windows":
		return "WASAPI is not available"
	}
	return "no PulseAudio or PipeWire server answers"
}

func freeContext(ctx *malgo.AllocatedContext) {
	_ = ctx.Uninit()
	ctx.Free()
}

// Microphones lists the microphones of the system's sound server, the
// default one marked. It fails with ErrNoSoundServer when there is no
// sound server to ask.
func Microphones() ([]Microphone, error) {
	ctx, err := micContext()
	if err != nil {
		return nil, err
	}
	defer freeContext(ctx)
	_, mics, err := micDevices(ctx)
	return mics, err
}

func micDevices(ctx *malgo.AllocatedContext) ([]malgo.DeviceInfo, []Microphone, error) {
	devs, err := ctx.Devices(malgo.Capture)
	if err != nil {
		return nil, nil, fmt.Errorf("list microphones: %w", err)
	}
	mics := make([]Microphone, 0, len(devs))
	for _, d := range devs {
		mics = append(mics, Microphone{Name: idName(d), Label: d.Name(), Default: d.IsDefault != 0})
	}
	return devs, mics, nil
}

// idName is a device's stable name: the text of its ID (PulseAudio's
// source name, CoreAudio's UID), or its label when the ID is not text.
func idName(d malgo.DeviceInfo) string {
	id := d.ID[:]
	n := 0
	for n < len(id) && id[n] != 0 {
		n++
	}
	if n == 0 || !utf8.Valid(id[:n]) {
		return d.Name()
	}
	return string(id[:n])
}

// mic is an open microphone: an audio.Reader of 48 kHz mono chunks of
// 20 ms. The device starts on the first Read, so nothing is captured
// before the track starts.
type mic struct {
	info Microphone
	ctx  *malgo.AllocatedContext
	dev  *malgo.Device

	mu      sync.Mutex // guards q and stopped; held only to copy samples
	q       ring
	stopped bool          // the device stopped by itself
	lastCB  time.Time     // when the newest samples in q came
	chunkAt time.Time     // when the first sample of the chunk Read returned last was captured
	wake    chan struct{} // a non-blocking nudge to the reader
	done    chan struct{} // closed by Close

	life    sync.Mutex // orders starting the device against Close
	started bool
	closed  bool
	stalled atomic.Bool // no sound came for micStallLimit: the device is gone
}

// micStallLimit is how long a started microphone may deliver nothing
// before it is taken for gone. A sound server that dies does not always
// say so (miniaudio's PulseAudio back end then just stops calling back);
// a working one delivers every few milliseconds.
const micStallLimit = 2 * time.Second

// micUninitLimit bounds the wait for the sound library to let go of a
// device in Close: with its server gone it can wait forever, and the
// call must still end.
const micUninitLimit = 3 * time.Second

// openMic opens the microphone named name ("" for the system's default).
func openMic(name string) (*mic, error) {
	ctx, err := micContext()
	if err != nil {
		return nil, err
	}
	devs, mics, err := micDevices(ctx)
	if err != nil {
		freeContext(ctx)
		return nil, err
	}
	if len(mics) == 0 {
		freeContext(ctx)
		if name != "" {
			return nil, &NoMicrophoneError{Name: name}
		}
		return nil, ErrNoMicrophone
	}
	m := &mic{ctx: ctx, q: ring{buf: make([]int16, micRingSamples)}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	cfg := malgo.DefaultDeviceConfig(malgo.Capture)
	cfg.Capture.Format = malgo.FormatS16
	cfg.Capture.Channels = 1
	cfg.SampleRate = micSampleRate
	// One callback per Opus frame: 10 ms periods cost half again as much
	// CPU (BenchmarkMicrophoneToOpus: 83 against 50 ms a second), 40 ms
	// ones add latency for little more saving (31).
	cfg.PeriodSizeInMilliseconds = 20
	m.info = Microphone{Name: "default", Label: "the default microphone", Default: true}
	for i, mi := range mics {
		if (name == "" && mi.Default) || (name != "" && mi.Matches(name)) {
			m.info = mi
			if name != "" {
				id := devs[i].ID
				p := id.Pointer() // C memory, freed below once the device holds its own copy
				defer C.free(p)
				cfg.Capture.DeviceID = p
			}
			break
		}
	}
	if name != "" && cfg.Capture.DeviceID == nil {
		freeContext(ctx)
		have := make([]string, len(mics))
		for i, mi := range mics {
			have[i] = mi.Name
		}
		return nil, &NoMicrophoneError{Name: name, Have: have}
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: m.data, Stop: m.stop})
	if err != nil {
		freeContext(ctx)
		return nil, fmt.Errorf("open microphone %s: %w", m.info.Name, err)
	}
	m.dev = dev
	return m, nil
}

// data is the capture callback, on the sound library's thread: it copies
// the samples into the ring and never waits for the reader.
func (m *mic) data(_, in []byte, _ uint32) {
	if len(in) < 2 {
		return
	}
	s := unsafe.Slice((*int16)(unsafe.Pointer(&in[0])), len(in)/2)
	m.mu.Lock()
	m.q.write(s)
	m.lastCB = time.Now()
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// stop is called when the device stops, by Close or by itself.
func (m *mic) stop() {
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Read returns the next 20 ms, waiting for the microphone; io.EOF after
// Close, and an error wrapping ErrMicStopped when the device stops by
// itself.
func (m *mic) Read() (wave.Audio, func(), error) {
	if err := m.start(); err != nil {
		return nil, nil, err
	}
	for {
		select {
		case <-m.done:
			return nil, nil, io.EOF
		default:
		}
		m.mu.Lock()
		if m.q.n >= micChunk {
			chunk := wave.NewInt16Interleaved(wave.ChunkInfo{Len: micChunk, Channels: 1, SamplingRate: micSampleRate})
			// Its first sample is q.n samples older than the newest.
			m.chunkAt = m.lastCB.Add(-time.Duration(m.q.n) * time.Second / micSampleRate)
			m.q.read(chunk.Data)
			m.mu.Unlock()
			return chunk, func() {}, nil
		}
		stopped := m.stopped
		m.mu.Unlock()
		if stopped {
			return nil, nil, fmt.Errorf("%w: %s", ErrMicStopped, m.info.Name)
		}
		stall := time.NewTimer(micStallLimit)
		select {
		case <-m.wake:
			stall.Stop()
		case <-m.done:
			stall.Stop()
		case <-stall.C:
			m.stalled.Store(true)
			return nil, nil, fmt.Errorf("%w: %s: no sound for %s", ErrMicStopped, m.info.Name, micStallLimit)
		}
	}
}

// Captured is when the first sample of the chunk Read returned last was
// captured, as far as the arrival of the samples tells: the sound
// library's callback hands over a period's samples once it has them all.
func (m *mic) Captured() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.chunkAt
}

func (m *mic) start() error {
	m.life.Lock()
	defer m.life.Unlock()
	if m.started || m.closed {
		return nil
	}
	m.started = true
	if err := m.dev.Start(); err != nil {
		return fmt.Errorf("start microphone %s: %w", m.info.Name, err)
	}
	return nil
}

// Dropped counts the samples lost because the reader fell more than a
// second behind.
func (m *mic) Dropped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.q.dropped
}

// Close stops the microphone, wakes a waiting Read (it returns io.EOF)
// and frees the device; it is idempotent.
func (m *mic) Close() error {
	m.life.Lock()
	defer m.life.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	close(m.done)
	if m.stalled.Load() {
		// The server is gone: the library would wait for it forever.
		// The device and its connection are left to the process's end.
		return nil
	}
	released := make(chan struct{})
	go func() {
		m.dev.Uninit() // stops the device and waits for its callbacks
		freeContext(m.ctx)
		close(released)
	}()
	t := time.NewTimer(micUninitLimit)
	defer t.Stop()
	select {
	case <-released:
	case <-t.C:
		return fmt.Errorf("close microphone %s: the sound library did not let go within %s", m.info.Name, micUninitLimit)
	}
	return nil
}
