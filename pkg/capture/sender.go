package capture

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// SenderConfig says what a Sender sends: a video source, a sound source,
// or both.
type SenderConfig struct {
	// Video is the video source; None sends no video.
	Video Source
	// VideoOptions shape the video and name its codec (Options.Codec is
	// required with a video source).
	VideoOptions Options
	// Audio is the sound source; AudioNone (the zero value) sends none,
	// and AudioAuto sends the default microphone's sound when there is
	// one and none, without an error, when there is not.
	Audio AudioSource
	// AudioOptions name the sound's codec (AudioOptions.Codec is required
	// with a sound source).
	AudioOptions AudioOptions
}

// AudioShare is the part of a congestion controller's target that
// SetBitRate gives the sound first, bits/s: what Opus needs for clear
// speech with room for its in-band FEC. People notice bad sound before a
// blurry picture, and sound costs little.
const AudioShare = 32_000

// ErrNothingToSend means a SenderConfig names no source.
var ErrNothingToSend = errors.New("capture: no source to send")

// Sender is the send side of every mode of p2pcam (a call, WHIP, a
// server of many viewers): the sources, each with its encoder and its
// track. Build it with OpenSender, add Tracks to a peer (or several),
// Start it once connected, and Close it when done.
//
// A Sender stops when its first track stops: Done is then closed, and Err
// says why (ErrSourceEnded for a streamed source that came to its end,
// another error for a failure, nil after Close).
type Sender struct {
	tracks []*Track
	video  *Track
	audio  *Track
	// audioSkipped says why AudioAuto sends no sound.
	audioSkipped error

	mu      sync.Mutex
	started bool
	closed  bool
	err     error

	done     chan struct{}
	doneOnce sync.Once
	stop     chan struct{} // closed by Close: the watchers return
	wg       sync.WaitGroup
}

// OpenSender opens the sources of cfg and builds an encoder and a track
// for each. ctx bounds the opening: waiting for a named pipe's writer or
// for a stream's first frame ends with ctx's error. Once open, reading is
// ended by Close, at once, even a read that waits on a pipe. Nothing is
// captured or encoded until Start. With AudioAuto and no microphone (or
// no sound server) the sender sends video only; AudioSkipped says why.
func OpenSender(ctx context.Context, cfg SenderConfig) (*Sender, error) {
	if cfg.Video.Kind == None && cfg.Audio.Kind == AudioNone {
		return nil, ErrNothingToSend
	}
	s := &Sender{done: make(chan struct{}), stop: make(chan struct{})}
	// The sound source opens while the video does: finding the
	// microphone (connecting to the sound server) then costs the offer
	// no time of its own.
	type opened struct {
		t            *Track
		skipped, err error
	}
	audio := make(chan opened, 1)
	if cfg.Audio.Kind != AudioNone {
		go func() {
			t, skipped, err := openAudio(cfg.Audio, cfg.AudioOptions)
			audio <- opened{t, skipped, err}
		}()
	} else {
		audio <- opened{}
	}
	if cfg.Video.Kind != None {
		v, err := OpenContext(ctx, cfg.Video, cfg.VideoOptions)
		if err != nil {
			if a := <-audio; a.t != nil {
				a.t.Close()
			}
			return nil, fmt.Errorf("open source %s: %w", cfg.Video, err)
		}
		s.video = v
		s.tracks = append(s.tracks, v)
	}
	a := <-audio
	if a.err != nil {
		s.Close()
		return nil, fmt.Errorf("open sound source %s: %w", cfg.Audio, a.err)
	}
	s.audioSkipped = a.skipped
	if a.t != nil {
		s.audio = a.t
		s.tracks = append(s.tracks, a.t)
	}
	if len(s.tracks) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNothingToSend, s.audioSkipped)
	}
	return s, nil
}

// Tracks returns the sender's tracks, video first; add each to a peer
// with its codec (Track.Codec) and its keyframe request
// (Track.ForceKeyFrame).
func (s *Sender) Tracks() []*Track { return s.tracks }

// Video returns the video track, nil when the sender sends no video.
func (s *Sender) Video() *Track { return s.video }

// Audio returns the sound track, nil when the sender sends no sound.
func (s *Sender) Audio() *Track { return s.audio }

// AudioSkipped says why a sender asked for AudioAuto sends no sound (no
// sound server, no microphone); nil otherwise.
func (s *Sender) AudioSkipped() error { return s.audioSkipped }

// Start starts every track: capturing, encoding and sending in the
// background, each first frame a keyframe. It is an error to Start twice
// or after Close.
func (s *Sender) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("capture: sender already started or closed")
	}
	s.started = true
	for _, t := range s.tracks {
		if err := t.Start(); err != nil {
			return err
		}
		s.wg.Add(1)
		go s.watch(t)
	}
	return nil
}

// watch ends the sender when t stops before Close. The sound stopping
// (a microphone unplugged) does not end a sender that also sends video:
// the call goes on without sound, and AudioErr says why.
func (s *Sender) watch(t *Track) {
	defer s.wg.Done()
	select {
	case <-t.Done():
	case <-s.stop:
		return
	}
	if t == s.audio && s.video != nil {
		return
	}
	s.mu.Lock()
	if !s.closed && s.err == nil {
		s.err = t.Err()
	}
	s.mu.Unlock()
	s.doneOnce.Do(func() { close(s.done) })
}

// Done is closed when the sender stops after Start: a source ended or
// failed (see Err), or Close was called.
func (s *Sender) Done() <-chan struct{} { return s.done }

// Err returns what stopped the sender before Close, if anything did:
// an error wrapping ErrSourceEnded when a streamed source (a pipe,
// standard input) came to its end, another error when a source or an
// encoder failed, and nil otherwise.
func (s *Sender) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	for _, t := range s.tracks {
		if t == s.audio && s.video != nil {
			continue
		}
		if err := t.Err(); err != nil {
			return err
		}
	}
	return nil
}

// AudioErr says why the sound stopped during the call while the video
// went on (an error wrapping ErrMicStopped for a microphone that went
// away); nil while it flows, and when there is none.
func (s *Sender) AudioErr() error {
	if s.audio == nil {
		return nil
	}
	return s.audio.Err()
}

// SetBitRate shares a congestion controller's target (bits/s) among the
// tracks: the sound, when there is some, first takes AudioShare (or the
// whole target when that is less), and the video gets the rest.
func (s *Sender) SetBitRate(bps int) {
	if s.audio != nil {
		a := min(AudioShare, bps)
		s.audio.SetBitRate(a)
		bps -= a
	}
	if s.video != nil {
		s.video.SetBitRate(bps)
	}
}

// SetPacketLoss tells the sound's encoder the loss the other side
// reports (percent, from RTCP receiver reports), so that it codes as
// much in-band FEC as that calls for.
func (s *Sender) SetPacketLoss(percent int) {
	if s.audio != nil {
		s.audio.SetPacketLoss(percent)
	}
}

// MicDropped counts the samples of sound the microphone captured but
// could not keep because the encoder fell more than a second behind; 0
// for other sound sources.
func (s *Sender) MicDropped() uint64 {
	if s.audio == nil || s.audio.micDropped == nil {
		return 0
	}
	return s.audio.micDropped()
}

// Microphone says which microphone the sound comes from, and false when
// the sound source is not a microphone.
func (s *Sender) Microphone() (Microphone, bool) {
	if s.audio == nil || s.audio.mic == nil {
		return Microphone{}, false
	}
	return *s.audio.mic, true
}

// FramesSent counts the video frames handed to the network.
func (s *Sender) FramesSent() uint64 {
	if s.video == nil {
		return 0
	}
	return s.video.FramesSent()
}

// CameraMode says which camera was opened in which mode, and false when
// the video source is not a V4L2 camera.
func (s *Sender) CameraMode() (name string, mode ModeChoice, ok bool) {
	if s.video == nil {
		return "", ModeChoice{}, false
	}
	return s.video.CameraMode()
}

// Close closes every source and encoder, whether or not the sender was
// started, and waits for all of the sender's goroutines. It is
// idempotent; later calls return nil.
func (s *Sender) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	var errs []error
	for _, t := range s.tracks {
		errs = append(errs, t.Close())
	}
	close(s.stop)
	s.wg.Wait()
	s.doneOnce.Do(func() { close(s.done) })
	return errors.Join(errs...)
}
