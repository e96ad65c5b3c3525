package serve

import (
	"context"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// sender is the one place serve meets the sender pipeline: it opens the
// source and its encoder, starts them, and says how the source ended.
// Everything else in the package goes through its methods, so that moving
// to another pipeline (one that carries several tracks) changes this file
// alone.
type sender struct {
	s   *capture.Sender
	t   *capture.Track // its video
	key *keyLimiter    // every keyframe request, every viewer's, goes through it
	// layers is how the video's temporal layers travel, nil when its
	// codec has none (layers.go).
	layers *codec.Layering
	// audio is the sound's share of each viewer's bitrate (bits/s): 0
	// without sound. The rest of serve counts the video alone, and
	// setBitRate adds it back.
	audio int
}

// openSender opens src, and the sound source a when there is one,
// through capture's context-aware path, as a call does: waiting for a
// named pipe's writer or a stream's first frame ends with ctx, with ctx's
// error. AudioAuto with no microphone sends no sound, silently.
func openSender(ctx context.Context, src capture.Source, opts capture.Options, a capture.AudioSource, aopts capture.AudioOptions) (*sender, error) {
	if opts.Codec.MimeType == "" {
		opts.Codec, _ = codecs.Default(codec.Video)
	}
	if opts.Codec.Layers != nil && opts.TemporalLayers == 0 {
		opts.TemporalLayers = serveLayers
	}
	if a.Kind != capture.AudioNone && aopts.Codec.MimeType == "" {
		aopts.Codec, _ = codecs.Default(codec.Audio)
	}
	s, err := capture.OpenSender(ctx, capture.SenderConfig{Video: src, VideoOptions: opts, Audio: a, AudioOptions: aopts})
	if err != nil {
		return nil, err
	}
	out := &sender{s: s, t: s.Video()}
	if s.Audio() != nil {
		out.audio = capture.AudioShare
	}
	if opts.TemporalLayers > 1 {
		out.layers = opts.Codec.Layers
	}
	out.key = newKeyLimiter(keyFrameEvery, out.forceKeyFrame)
	return out, nil
}

// tracks are what v's peer sends: the same tracks for all (the sound,
// when there is some, whole), the layered video through v's own
// thinTrack, which it keeps in v.thin.
func (s *sender) tracks(v *viewer) []peer.SendTrack {
	var ts []peer.SendTrack
	for _, t := range s.s.Tracks() {
		var tl webrtc.TrackLocal = t
		if t == s.t && s.layers != nil {
			v.thin = newThinTrack(t, s.layers, &v.layer)
			tl = v.thin
		}
		ts = append(ts, peer.SendTrack{Track: tl, Codec: t.Codec(), OnKeyFrameRequest: s.key.request, CaptureLag: t.CaptureLag})
	}
	return ts
}

// share is the fraction of the encoder's bitrate that layers 0..i carry
// together, for each layer i; one layer when the video has none.
func (s *sender) share() []float64 {
	if s.layers == nil {
		return []float64{1}
	}
	return s.layers.Share(serveLayers)
}

// start starts capturing and encoding; the first frame is a keyframe.
// It may be called once.
func (s *sender) start() error { return s.s.Start() }

// done is closed when the source stops after start.
func (s *sender) done() <-chan struct{} { return s.s.Done() }

// ended says, once done is closed, how the source ended: ended is true
// for a streamed source (a pipe, standard input) that reached its end,
// which ends serving cleanly as it ends a call; otherwise err says why it
// failed.
func (s *sender) ended() (ended bool, err error) {
	switch err := s.s.Err(); {
	case errors.Is(err, capture.ErrSourceEnded):
		return true, nil
	case err == nil:
		return false, errors.New("video source failed: the video source stopped")
	default:
		return false, fmt.Errorf("video source failed: %w", err)
	}
}

// setBitRate sets the video's target (bits/s); the sound keeps its
// share on top.
func (s *sender) setBitRate(bps int) { s.s.SetBitRate(bps + s.audio) }
func (s *sender) framesSent() uint64 { return s.s.FramesSent() }

// setPacketLoss tells the sound's encoder the loss (percent) to code
// in-band FEC for: one encoder serves every viewer, so the worst one's.
func (s *sender) setPacketLoss(percent int) { s.s.SetPacketLoss(percent) }

func (s *sender) encoderStats() (codec.EncoderStats, bool) { return s.t.EncoderStats() }

// keyFrame makes a coming frame of every track a keyframe: the next one,
// unless one was forced less than keyFrameEvery ago.
func (s *sender) keyFrame() { s.key.request() }

func (s *sender) forceKeyFrame() {
	for _, t := range s.s.Tracks() {
		t.ForceKeyFrame()
	}
}

// close stops the source and the encoder and waits for them.
func (s *sender) close() error {
	s.key.stop()
	return s.s.Close()
}
