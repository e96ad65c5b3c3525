// Package pcm is p2pcam's sound that comes from no device: the synthetic
// test beep (--audio test) and .wav files (--audio FILE.wav), as 48 kHz
// mono 16-bit samples ready for the Opus encoder (package opus).
//
// A Source only computes samples: Beep from its start time and the
// number of samples produced so far, Loop from a decoded file. Neither
// looks at the clock while running, so the timestamps that follow the
// sample count (RTP's, at 48 kHz) describe the sound exactly. Reader
// adapts a Source to mediadevices (an audio.Reader and a
// mediadevices.AudioSource) in 20 ms chunks, optionally paced so that
// chunk k is handed out no earlier than k·20 ms after the first: pacing
// decides only when samples leave, never what they are.
package pcm

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/pion/mediadevices/pkg/wave"
)

// The format every Source produces.
const (
	SampleRate = 48000
	// ChunkSamples is how many samples Reader hands out at a time: 20 ms,
	// one Opus frame.
	ChunkSamples = SampleRate / 50
	chunkTime    = 20 * time.Millisecond
)

// Source produces 48 kHz mono samples.
type Source interface {
	// Read fills buf with the next len(buf) samples and returns how many
	// it wrote: all of them, unless the source has ended (then an error,
	// io.EOF for a normal end). It does not block.
	Read(buf []int16) (int, error)
}

// Reader hands out a Source's samples as mediadevices audio chunks. It
// implements mediadevices.AudioSource; Read must be called from one
// goroutine at a time, Close from any.
type Reader struct {
	src  Source
	id   string
	pace bool
	mic  bool // see LikeMicrophone

	closeOnce sync.Once
	done      chan struct{} // closed by Close

	// Owned by the goroutine calling Read.
	start time.Time // wall clock at the first Read
	n     int64     // chunks handed out
}

// NewReader returns a Reader of src named id (mediadevices' source ID).
// With pace, Read blocks until chunk k is due, k·20 ms after the first
// Read, as a live microphone would; without it, Read returns at once
// (for files encoded faster than real time, and for tests).
func NewReader(src Source, id string, pace bool) *Reader {
	return &Reader{src: src, id: id, pace: pace, done: make(chan struct{})}
}

// ID implements mediadevices.Source.
func (r *Reader) ID() string { return r.id }

// Read returns the next 20 ms: a new *wave.Int16Interleaved of
// ChunkSamples samples, mono at 48 kHz, the caller's to keep. It returns
// io.EOF after Close (also waking a paced Read that waits) and the
// source's error when it ends; a source that ends mid-chunk has its last
// samples returned in a shorter chunk first.
func (r *Reader) Read() (wave.Audio, func(), error) {
	if r.pace {
		if r.n == 0 {
			r.start = time.Now()
			if b, ok := r.src.(*Beep); ok {
				b.anchor(r.start)
			}
		}
		k := r.n
		if r.mic {
			k++ // a chunk is due when its last sample is
		}
		if k > 0 {
			due := time.Until(r.start.Add(time.Duration(k) * chunkTime))
			if due > 0 {
				t := time.NewTimer(due)
				select {
				case <-t.C:
				case <-r.done:
					t.Stop()
					return nil, nil, io.EOF
				}
			}
		}
	}
	select {
	case <-r.done:
		return nil, nil, io.EOF
	default:
	}
	chunk := wave.NewInt16Interleaved(wave.ChunkInfo{Len: ChunkSamples, Channels: 1, SamplingRate: SampleRate})
	n, err := r.src.Read(chunk.Data)
	if n == 0 {
		if err == nil {
			err = errors.New("pcm: source gave no samples")
		}
		return nil, nil, err
	}
	r.n++
	if n < ChunkSamples {
		chunk = chunk.SubAudio(0, n)
	}
	return chunk, func() {}, nil
}

// LikeMicrophone makes a paced Reader hand each chunk out when its last
// sample is due, (k+1)·20 ms after the first Read, instead of when its
// first one is: as a microphone does, which has the chunk only once it
// recorded all of it. The samples still stand for the same instants (a
// Beep's are anchored at the first Read), so the chunks leave 20 ms after
// the time they stand for, which Captured says. Call it before the first
// Read.
func (r *Reader) LikeMicrophone() { r.mic = true }

// Captured is the instant the first sample of the chunk Read returned
// last stands for, when the Reader is paced: the first Read's time plus
// 20 ms a chunk before it. It is zero before the first Read and for a
// Reader that is not paced. Call it from the goroutine calling Read.
func (r *Reader) Captured() time.Time {
	if !r.pace || r.n == 0 {
		return time.Time{}
	}
	return r.start.Add(time.Duration(r.n-1) * chunkTime)
}

// Close makes Read return io.EOF; it is idempotent.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() { close(r.done) })
	return nil
}
