package capture

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// SenderConfig says what a Sender sends: today one video source; an
// audio source will sit beside it.
type SenderConfig struct {
	// Video is the video source; its Kind must not be None.
	Video Source
	// VideoOptions shape the video and name its codec (Options.Codec is
	// required).
	VideoOptions Options
}

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
// captured or encoded until Start.
func OpenSender(ctx context.Context, cfg SenderConfig) (*Sender, error) {
	if cfg.Video.Kind == None {
		return nil, ErrNothingToSend
	}
	v, err := OpenContext(ctx, cfg.Video, cfg.VideoOptions)
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", cfg.Video, err)
	}
	return &Sender{
		tracks: []*Track{v},
		video:  v,
		done:   make(chan struct{}),
		stop:   make(chan struct{}),
	}, nil
}

// Tracks returns the sender's tracks, video first; add each to a peer
// with its codec (Track.Codec) and its keyframe request
// (Track.ForceKeyFrame).
func (s *Sender) Tracks() []*Track { return s.tracks }

// Video returns the video track.
func (s *Sender) Video() *Track { return s.video }

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

// watch ends the sender when t stops before Close.
func (s *Sender) watch(t *Track) {
	defer s.wg.Done()
	select {
	case <-t.Done():
	case <-s.stop:
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
		if err := t.Err(); err != nil {
			return err
		}
	}
	return nil
}

// SetBitRate shares a congestion controller's target (bits/s) among the
// tracks: audio, when there is some, first takes what it needs, and video
// gets the rest. Today all of it goes to video.
func (s *Sender) SetBitRate(bps int) {
	if s.video != nil {
		s.video.SetBitRate(bps)
	}
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
