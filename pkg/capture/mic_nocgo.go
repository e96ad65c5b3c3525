//go:build !cgo

package capture

import (
	"fmt"
	"io"

	"github.com/pion/mediadevices/pkg/wave"
)

// Microphones lists nothing in a build without cgo.
func Microphones() ([]Microphone, error) {
	return nil, fmt.Errorf("%w: this build of p2pcam has no microphone support (built without cgo)", ErrNoSoundServer)
}

// mic is the microphone reader; a build without cgo has none.
type mic struct{ info Microphone }

func openMic(string) (*mic, error) {
	_, err := Microphones()
	return nil, err
}

func (m *mic) Read() (wave.Audio, func(), error) { return nil, nil, io.EOF }
func (m *mic) Close() error                      { return nil }
func (m *mic) Dropped() uint64                   { return 0 }
