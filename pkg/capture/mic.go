package capture

import (
	"errors"
	"fmt"
	"strings"
)

// Microphone is a device sound can be captured from.
type Microphone struct {
	// Name is the stable name to pass to --audio mic:NAME: the sound
	// server's name for it (PulseAudio's and PipeWire's source name, e.g.
	// alsa_input.usb-…; CoreAudio's device UID).
	Name string `json:"name"`
	// Label is the description people see in their sound settings.
	Label string `json:"label"`
	// Default marks the system's default microphone (--audio default).
	Default bool `json:"default"`
}

// Matches reports whether s names this microphone: its name or its label.
func (m Microphone) Matches(s string) bool { return s == m.Name || s == m.Label }

// Errors of opening a microphone. A caller turns them into advice; with
// --audio auto they only mean "no sound".
var (
	// ErrNoSoundServer means there is no sound system to take sound from:
	// no PulseAudio or PipeWire server answering (Linux), no CoreAudio
	// (macOS), or a build without microphone support.
	ErrNoSoundServer = errors.New("no sound server to capture from")
	// ErrNoMicrophone means the sound server has no microphone, or none
	// by the name asked for (then the error is a *NoMicrophoneError).
	ErrNoMicrophone = errors.New("no microphone found")
)

// ErrMicStopped means the microphone stopped delivering sound during the
// call (it was unplugged, or the sound server went away).
var ErrMicStopped = errors.New("the microphone stopped")

// NoMicrophoneError means no microphone matched Name; Have lists the
// names there are.
type NoMicrophoneError struct {
	Name string
	Have []string
}

func (e *NoMicrophoneError) Error() string {
	if len(e.Have) == 0 {
		return fmt.Sprintf("no microphone %q: the sound server has none", e.Name)
	}
	return fmt.Sprintf("no microphone %q: there are %s", e.Name, strings.Join(e.Have, ", "))
}

// Is makes errors.Is(err, ErrNoMicrophone) hold.
func (e *NoMicrophoneError) Is(target error) bool { return target == ErrNoMicrophone }

// micRingSamples is how much sound a microphone buffers for a reader
// that falls behind, in samples at 48 kHz: one second. The capture
// callback never waits; past this it drops (and counts) what it cannot
// store.
const micRingSamples = 48000

// ring is the microphone's buffer between the capture callback (which
// must never wait) and the encoder's reads. The lock is held only to
// copy samples.
type ring struct {
	buf     []int16
	r, n    int    // read position and samples stored
	dropped uint64 // samples the writer could not store
}

// write stores as much of p as fits and counts the rest as dropped.
func (q *ring) write(p []int16) {
	free := len(q.buf) - q.n
	if len(p) > free {
		q.dropped += uint64(len(p) - free)
		p = p[:free]
	}
	w := (q.r + q.n) % len(q.buf)
	c := copy(q.buf[w:], p)
	copy(q.buf, p[c:])
	q.n += len(p)
}

// read moves len(p) samples into p; the caller checks q.n first.
func (q *ring) read(p []int16) {
	c := copy(p, q.buf[q.r:min(len(q.buf), q.r+len(p))])
	copy(p[c:], q.buf)
	q.r = (q.r + len(p)) % len(q.buf)
	q.n -= len(p)
}
