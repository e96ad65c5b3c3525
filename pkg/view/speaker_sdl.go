//go:build cgo && !nosdl

package view

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2pcam/p2pcam/internal/sdl"
	"github.com/p2pcam/p2pcam/pkg/codec"
)

// The speaker's device side: SDL's queue is topped up to deviceAhead
// every pollEvery, from the jitter buffer, in device periods of
// devicePeriod samples.
const (
	deviceAhead  = 20 * time.Millisecond
	pollEvery    = 5 * time.Millisecond
	devicePeriod = 512 // samples: 10.7 ms at 48 kHz
)

// ErrNoSound means there is no sound output to play the call's sound on.
var ErrNoSound = errors.New("no sound output")

// speaker plays a window's sound: the call's audio packets go into a
// jitter buffer (Audio), and a goroutine of its own decodes them in turn
// into SDL's audio queue, keeping it deviceAhead full. It starts with
// the first packet.
type speaker struct {
	s      *Screen
	log    *slog.Logger
	notice func(string)
	// title asks the window to show what changed (muted, no sound).
	title func()

	muted  atomic.Bool
	silent atomic.Bool // there is no sound output: packets are dropped

	mu      sync.Mutex
	jb      *jitterBuffer
	started bool
	closed  bool
	// delay is the sound's last measured delay from arrival to the
	// speaker: the jitter buffer's depth and the device's queue.
	delay time.Duration
	ls    lipSync // the pictures' schedule by the sender's clock

	stop chan struct{}
	wg   sync.WaitGroup
}

func newSpeaker(s *Screen, log *slog.Logger, notice func(string), title func()) *speaker {
	return &speaker{s: s, log: log, notice: notice, title: title, stop: make(chan struct{})}
}

// Audio takes one packet of codec c with its RTP timestamp; it never
// blocks on the device and does not keep packet.
func (sp *speaker) Audio(c codec.Descriptor, packet []byte, rtpTimestamp uint32) {
	if sp.silent.Load() {
		return
	}
	now := time.Now()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return
	}
	if !sp.started {
		if c.NewAudioDecoder == nil || c.ClockRate == 0 {
			sp.silent.Store(true)
			sp.log.Debug("view: no decoder for the sound", "codec", c.Name)
			return
		}
		sp.started = true
		sp.jb = newJitterBuffer(c.ClockRate, c.HasFEC)
		sp.wg.Add(1)
		go func() {
			defer sp.wg.Done()
			sp.run(c)
		}()
	}
	sp.jb.push(packet, rtpTimestamp, now)
}

// run opens the decoder and the device and plays until stop.
func (sp *speaker) run(c codec.Descriptor) {
	dec, err := c.NewAudioDecoder()
	if err != nil {
		sp.noSound(fmt.Errorf("%w: %s decoder: %w", ErrNoSound, c.Name, err))
		return
	}
	defer dec.Close()
	var dev sdl.AudioDeviceID
	derr := sp.s.do(func() { dev, err = sp.s.openAudio(int32(c.ClockRate)) })
	if derr != nil {
		return
	}
	if err != nil {
		sp.noSound(err)
		return
	}
	defer func() {
		if sp.s.do(func() { sdl.CloseAudioDevice(dev) }) != nil {
			sp.log.Debug("view: the loop closed the sound device")
		}
	}()
	sp.log.Debug("view: sound device opened", "driver", sdl.CurrentAudioDriver())
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	ahead := int(int64(deviceAhead) * int64(c.ClockRate) / int64(time.Second))
	buf := make([]byte, 0, 2*ahead)
	var ph playhead
	// The device may start playing long after it opened (a sound
	// server starts its stream in its own time, up to seconds): sound
	// queued before would be heard that late, and the pictures waited
	// by it. So the device is given silence first, and the call's
	// sound only once it has taken in more than one period of it (SDL
	// fills its own buffer of one period at once, before the server
	// plays anything); until then the jitter buffer keeps only the
	// newest sound.
	prime := ahead + devicePeriod
	if err := sdl.QueueAudio(dev, make([]byte, 2*prime)); err != nil {
		sp.log.Debug("view: sound queue", "err", err)
	}
	ph.silence(prime)
	started := false
	for {
		select {
		case <-sp.stop:
			return
		case <-t.C:
		}
		queued := int(sdl.GetQueuedAudioSize(dev) / 2)
		if !started && prime-queued <= devicePeriod {
			continue // the device has not begun to play
		}
		started = true
		for queued < ahead {
			sp.mu.Lock()
			st := sp.jb.pop()
			sp.mu.Unlock()
			if st.samples == 0 {
				break
			}
			pcm, err := decodeStep(dec, st)
			if err != nil {
				sp.log.Debug("view: sound decode", "err", err)
				pcm = make([]int16, st.samples)
			}
			if st.payload != nil && quiet(pcm) && sp.catchUp() {
				continue // a pause played shorter: the buffer was deep
			}
			buf = buf[:0]
			muted := sp.muted.Load()
			for _, v := range pcm {
				if muted {
					v = 0
				}
				buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
			}
			if err := sdl.QueueAudio(dev, buf); err != nil {
				sp.log.Debug("view: sound queue", "err", err)
				break
			}
			queued += len(pcm)
			ph.queue(st.ts, len(pcm))
		}
		sp.heard(&ph, queued)
		sp.mu.Lock()
		sp.delay = sp.jb.depth() + time.Duration(queued)*time.Second/time.Duration(c.ClockRate)
		sp.mu.Unlock()
	}
}

// quietLevel is the peak under which a frame is a pause (-40 dBFS).
const quietLevel = 328

// quiet says whether pcm is a pause, which may be left out unheard.
func quiet(pcm []int16) bool {
	for _, v := range pcm {
		if v > quietLevel || v < -quietLevel {
			return false
		}
	}
	return true
}

// catchUp says whether the jitter buffer is deeper than its target by
// more than half a frame, and counts the frame it has been told of as
// dropped if so.
func (sp *speaker) catchUp() bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.jb.depth()-sp.jb.target() <= sp.jb.dur(sp.jb.frame/2) {
		return false
	}
	sp.jb.stats.Dropped++
	return true
}

// decodeStep decodes what the jitter buffer handed out.
func decodeStep(dec codec.AudioDecoder, st step) ([]int16, error) {
	switch {
	case st.payload != nil:
		return dec.Decode(st.payload)
	case st.fec:
		return dec.DecodeLost(st.next, st.samples)
	}
	return dec.DecodeLost(nil, st.samples)
}

// noSound says once that the sound cannot be played, and drops it from
// then on.
func (sp *speaker) noSound(err error) {
	sp.silent.Store(true)
	sp.log.Debug("view: no sound", "err", err)
	if sp.notice != nil {
		sp.notice(err.Error() + ": the call's sound is not played")
	}
	sp.title()
}

// lipSync is how long a picture decoded now waits so as to be seen with
// its sound: the sound's delay from arrival to the device, at most
// maxLipSync; 0 while no sound plays. Both streams are taken to be
// captured when they arrive (no RTCP sender reports are read yet), so
// the sound is never ahead of the picture, and only the picture waits.
func (sp *speaker) lipSync() time.Duration {
	if sp.silent.Load() {
		return 0
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.jb == nil || !sp.jb.playing {
		return 0
	}
	return min(sp.delay, maxLipSync)
}

// toggleMute mutes or unmutes; it reports whether it is now muted.
func (sp *speaker) toggleMute() bool {
	for {
		m := sp.muted.Load()
		if sp.muted.CompareAndSwap(m, !m) {
			return !m
		}
	}
}

// figures returns the speaker's figures for the overlay and tests.
func (sp *speaker) figures() (SoundFigures, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.jb == nil {
		return SoundFigures{}, false
	}
	st := sp.jb.stats
	return SoundFigures{
		Delay: sp.delay, Target: sp.jb.target(), Buffered: sp.jb.depth(),
		Skew: sp.ls.skew(), Synced: sp.ls.known,
		Packets: st.Packets, Recovered: st.Recovered, Concealed: st.Concealed,
		Late: st.Late, Dropped: st.Dropped, Muted: sp.muted.Load(), Silent: sp.silent.Load(),
	}, true
}

// close stops playing and waits for the speaker's goroutine.
func (sp *speaker) close() {
	sp.mu.Lock()
	if sp.closed {
		sp.mu.Unlock()
		return
	}
	sp.closed = true
	sp.mu.Unlock()
	close(sp.stop)
	sp.wg.Wait()
}

// openAudio starts SDL's audio, once, and opens the default output at
// rate, mono, 16 bits; on the loop's thread.
func (s *Screen) openAudio(rate int32) (sdl.AudioDeviceID, error) {
	if err := s.initAudio(); err != nil {
		return 0, err
	}
	dev, err := sdl.OpenAudioDevice(sdl.AudioSpec{Freq: rate, Format: sdl.AudioS16LSB, Channels: 1, Samples: devicePeriod})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNoSound, err)
	}
	sdl.PauseAudioDevice(dev, false)
	return dev, nil
}

// initAudio starts SDL's audio, once; on the loop's thread. Unless
// SDL_AUDIODRIVER names a driver, only the sound servers are tried, and
// ALSA's own devices only where there are some: ALSA's library prints a
// dozen lines on a machine without a sound card.
func (s *Screen) initAudio() error {
	if s.audioUp || s.audioErr != nil {
		return s.audioErr
	}
	if err := loadSDL(); err != nil {
		s.audioErr = fmt.Errorf("%w: %w", ErrNoSound, err)
		return s.audioErr
	}
	drivers := []string{""}
	if os.Getenv("SDL_AUDIODRIVER") == "" && runtime.GOOS == "linux" {
		drivers = []string{"pipewire", "pulseaudio"}
		if _, err := os.Stat("/dev/snd"); err == nil {
			drivers = append(drivers, "alsa")
		}
	}
	var errs []error
	for _, d := range drivers {
		if d != "" {
			// Over the environment too (an empty SDL_AUDIODRIVER would
			// have SDL try every driver).
			sdl.SetHintOverride(sdl.HintAudioDriver, d)
		}
		if err := sdl.InitSubSystem(sdl.InitAudio); err != nil {
			errs = append(errs, err)
			continue
		}
		s.audioUp = true
		return nil
	}
	s.audioErr = fmt.Errorf("%w: no sound server answered (PulseAudio or PipeWire)", ErrNoSound)
	if drivers[0] == "" {
		s.audioErr = fmt.Errorf("%w: SDL: %w", ErrNoSound, errors.Join(errs...))
	}
	return s.audioErr
}
