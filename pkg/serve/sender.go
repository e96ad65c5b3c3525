package serve

import (
	"context"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
)

// sender is the one place serve meets the sender pipeline: it opens the
// source and its encoder, starts them, and says how the source ended.
// Everything else in the package goes through its methods, so that moving
// to another pipeline (one that carries several tracks) changes this file
// alone.
type sender struct {
	t *capture.Track
}

// openSender opens src through capture's context-aware path, as a call
// does: waiting for a named pipe's writer or a stream's first frame ends
// with ctx, with ctx's error.
func openSender(ctx context.Context, src capture.Source, opts capture.Options) (*sender, error) {
	t, err := capture.OpenContext(ctx, src, opts)
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", src, err)
	}
	return &sender{t: t}, nil
}

// track is what each viewer's peer sends: one track shared by all.
func (s *sender) track() webrtc.TrackLocal { return s.t }

// start starts capturing and encoding; the first frame is a keyframe.
// It may be called once.
func (s *sender) start() error { return s.t.Start() }

// done is closed when the source stops after start.
func (s *sender) done() <-chan struct{} { return s.t.Done() }

// ended says, once done is closed, how the source ended: ended is true
// for a streamed source (a pipe, standard input) that reached its end,
// which ends serving cleanly as it ends a call; otherwise err says why it
// failed.
func (s *sender) ended() (ended bool, err error) {
	switch err := s.t.Err(); {
	case errors.Is(err, capture.ErrSourceEnded):
		return true, nil
	case err == nil:
		return false, errors.New("video source failed: the video source stopped")
	default:
		return false, fmt.Errorf("video source failed: %w", err)
	}
}

func (s *sender) keyFrame()          { s.t.ForceKeyFrame() }
func (s *sender) setBitRate(bps int) { s.t.SetBitRate(bps) }
func (s *sender) framesSent() uint64 { return s.t.FramesSent() }

func (s *sender) encoderStats() (capture.EncoderStats, bool) { return s.t.EncoderStats() }

// close stops the source and the encoder and waits for them.
func (s *sender) close() error { return s.t.Close() }
