package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/measure"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/record"
)

// receiver records the remote track to the session's output.
type receiver struct {
	s *session
	p *peer.Peer

	wg        sync.WaitGroup
	cancel    context.CancelFunc
	mu        sync.Mutex
	rec       *record.Recorder
	meter     *measure.Meter
	file      *os.File
	connected time.Time
	err       error
	// failed is closed when recording fails; err says why.
	failed chan struct{}
}

// CodecError means the other side sends video in a codec p2pcam does not
// record.
type CodecError struct{ MimeType string }

func (e *CodecError) Error() string {
	return fmt.Sprintf("the other side sends %s video; only VP8 can be recorded", e.MimeType)
}

func newReceiver(s *session, p *peer.Peer) *receiver {
	return &receiver{s: s, p: p, connected: time.Now(), failed: make(chan struct{})}
}

// start waits for the remote track in the background and records it.
func (r *receiver) start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case t := <-r.p.Tracks():
			if err := r.record(t); err != nil {
				r.mu.Lock()
				r.err = fmt.Errorf("%w: %w", ErrRecording, err)
				r.mu.Unlock()
				close(r.failed)
			}
		case <-ctx.Done():
		}
	}()
}

// failure returns what stopped the recording, once failed is closed.
func (r *receiver) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *receiver) open() (io.Writer, record.Format, error) {
	out := r.s.cfg.Output
	if out == "" {
		// Only a viewer: frames are assembled for it, and no file kept.
		return io.Discard, record.FormatIVF, nil
	}
	if out == "-" {
		if r.s.cfg.OutputTo == nil {
			return nil, 0, errors.New("no writer for the video")
		}
		return r.s.cfg.OutputTo, record.FormatWebM, nil
	}
	f, err := record.FormatForPath(out)
	if err != nil {
		return nil, 0, err
	}
	if r.s.outFile == nil {
		return nil, 0, errors.New("output file not opened")
	}
	file := r.s.outFile
	r.s.outFile = nil // the receiver closes it now
	r.file = file
	return file, f, nil
}

func (r *receiver) record(t *webrtc.TrackRemote) error {
	desc, ok := codecs.ByMime(t.Codec().MimeType)
	if !ok || desc.Kind != codec.Video {
		return &CodecError{MimeType: t.Codec().MimeType}
	}
	w, format, err := r.open()
	if err != nil {
		return err
	}
	ssrc := uint32(t.SSRC())
	track := record.Track{
		Codec:           desc,
		RequestKeyFrame: func() { _ = r.p.RequestKeyFrame(ssrc) },
	}
	opts := record.Options{
		Format: format,
		Logger: r.s.log,
		RTT:    r.p.RoundTrip,
		// A player reading a pipe gets the live picture, not a backlog.
		Live: r.s.cfg.Output == "-" && !isRegular(r.s.cfg.OutputTo),
	}
	if r.s.cfg.Measure {
		m, err := measure.New(measure.Options{Codec: desc, Logger: r.s.log})
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.meter = m
		r.mu.Unlock()
		track.OnFrame = func(data []byte, key bool, _ uint32) { m.Frame(data, key) }
	}
	if v := r.s.viewer; v != nil {
		measured := track.OnFrame
		track.OnFrame = func(data []byte, key bool, ts uint32) {
			v.Frame(data, key)
			if measured != nil {
				measured(data, key, ts)
			}
		}
	}
	opts.Tracks = []record.Track{track}
	rec, err := record.New(w, opts)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.rec = rec
	r.mu.Unlock()
	r.s.res.Output = r.s.cfg.Output
	if r.s.cfg.Output != "" {
		r.s.emit(Recording{Output: r.s.cfg.Output})
	}
	// Ask for a keyframe at once rather than waiting for the next one.
	_ = r.p.RequestKeyFrame(ssrc)
	if opts.Live {
		defer r.keyFramesEvery(pipeKeyFrames, ssrc)()
	}
	announced := false
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return nil // the track ended: the peer closed, a normal end
		}
		if err := rec.WriteRTP(0, pkt); err != nil {
			return fmt.Errorf("write video: %w", err)
		}
		if !announced {
			if st := rec.Stats(); st.FramesWritten > 0 {
				announced = true
				r.s.res.FirstFrame = time.Since(r.connected)
				r.s.emit(FirstFrame{Width: st.Width, Height: st.Height, After: r.s.res.FirstFrame})
			}
		}
	}
}

// pipeKeyFrames is how often a stream to a pipe gets a keyframe: a player
// reading it may start late, or discard the first keyframe while it
// probes the stream, and shows nothing until the next keyframe. Files, and
// streams redirected to files, get keyframes only when frames are lost.
const pipeKeyFrames = time.Second

// isRegular reports whether w is a regular file.
func isRegular(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// keyFramesEvery asks the sender for a keyframe every d until stop is
// called.
func (r *receiver) keyFramesEvery(d time.Duration, ssrc uint32) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = r.p.RequestKeyFrame(ssrc)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// stats returns the recorder's figures, zero before recording started.
func (r *receiver) stats() record.Stats {
	r.mu.Lock()
	rec := r.rec
	r.mu.Unlock()
	if rec == nil {
		return record.Stats{}
	}
	return rec.Stats()
}

// measured returns the --measure figures: latency and PSNR over the last
// frames (the whole call when final); counters are always whole-call. nil
// before the meter saw a frame.
func (r *receiver) measured(final bool) *Measured {
	r.mu.Lock()
	m := r.meter
	r.mu.Unlock()
	if m == nil {
		return nil
	}
	f := m.Recent()
	if final {
		f = m.Total()
	}
	if f.Frames == 0 && f.DecodeErrs == 0 && f.Unreadable == 0 {
		return nil
	}
	ms := func(d time.Duration) float64 { return round1(float64(d.Microseconds()) / 1000) }
	return &Measured{
		LatencyP50: ms(f.LatencyP50), LatencyP95: ms(f.LatencyP95), LatencyMax: ms(f.LatencyMax),
		FrozenMs: ms(f.Frozen), PSNR: round1(f.PSNR),
		FramesLost: f.Lost, Unreadable: f.Unreadable, DecodeError: f.DecodeErrs,
	}
}

// close waits for the recording to stop (the peer must be closed first so
// the track's reads end), finalizes it and closes the file.
func (r *receiver) close() error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.err
	if r.rec != nil {
		if cerr := r.rec.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("finalize %s: %w", r.s.cfg.Output, cerr)
		}
		st := r.rec.Stats()
		r.s.res.FramesRecv = st.FramesWritten
	}
	if r.meter != nil {
		defer r.meter.Close()
	}
	if r.file != nil {
		if cerr := r.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", r.s.cfg.Output, cerr)
		}
	}
	return err
}
