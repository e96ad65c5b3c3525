package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/measure"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/record"
)

// receiverDeps is everything a receiver needs from its session.
type receiverDeps struct {
	peer *peer.Peer
	log  *slog.Logger
	emit func(Event)
	// output is Config.Output; outputTo is Config.OutputTo, for "-".
	output   string
	outputTo io.Writer
	// takeFile hands over the output file the session created (nil when
	// none); the receiver closes it from then on.
	takeFile func() *os.File
	measure  bool   // Config.Measure
	viewer   Viewer // the viewer, nil when none
	// meterAudio: decode the received sound for its --stats figures.
	meterAudio bool
}

// received is what a receiver tells its session once closed.
type received struct {
	output     string        // the output written, "" when nothing was
	firstFrame time.Duration // from connecting to the first frame written
	framesRecv uint64
}

// receiver records the remote tracks into the session's output, one
// file for all of them (WebM; IVF takes the video alone), and hands the
// video's frames to the viewer and the meter.
type receiver struct {
	d receiverDeps

	wg     sync.WaitGroup
	cancel context.CancelFunc
	mu     sync.Mutex
	rec    *record.Recorder
	meter  *measure.Meter
	// audio is the received sound's meter and audioTrack its track in
	// rec; nil and -1 when not metered.
	audio      *audioMeter
	audioTrack int
	file       *os.File
	connected  time.Time
	err        error
	res        received
	// failed is closed when recording fails; err says why.
	failed chan struct{}
}

func newReceiver(d receiverDeps) *receiver {
	return &receiver{d: d, connected: time.Now(), failed: make(chan struct{}), audioTrack: -1}
}

// trackGrace is how long the receiver waits, once a remote track
// arrived, for the other tracks the other side said it sends: a track
// arrives with its first packet, and the recording's tracks are fixed
// when it starts. A track later than that is left unrecorded, and said;
// a late sound track is still played by the viewer's speaker.
const trackGrace = time.Second

// start waits in the background for the remote tracks the other side
// sends, then records them. A video track in a codec p2pcam has no
// descriptor for fails the recording with its *codec.UnsupportedError;
// another kind in such a codec is left out, and said.
func (r *receiver) start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		tracks, err := r.collect(ctx)
		if err == nil && len(tracks) > 0 {
			if _, ok := r.d.viewer.(Speaker); ok && !slices.ContainsFunc(tracks, isAudio) {
				r.wg.Go(func() { r.hearLate(ctx) })
			}
			err = r.record(tracks)
		}
		if err != nil {
			r.mu.Lock()
			r.err = fmt.Errorf("%w: %w", ErrRecording, err)
			r.mu.Unlock()
			close(r.failed)
		}
	}()
}

// collect gathers the remote tracks to record: all that the other side
// said it sends (peer.Incoming), or those that arrived within trackGrace
// of the first. It returns none when ctx ends first.
func (r *receiver) collect(ctx context.Context) ([]peer.RemoteTrack, error) {
	want := 0
	for _, d := range r.d.peer.Incoming() {
		if d.MimeType != "" {
			want++
		}
	}
	var (
		tracks []peer.RemoteTrack
		grace  <-chan time.Time
	)
	for want == 0 || len(tracks) < want {
		select {
		case t := <-r.d.peer.Tracks():
			switch {
			case t.Err != nil && t.Kind() == codec.Video:
				return nil, t.Err
			case t.Err != nil:
				r.d.log.Warn("not recording a remote track", "kind", t.Kind().String(), "err", t.Err)
				want--
				continue
			case r.d.output != "-" && r.d.output != "" && t.Kind() != codec.Video && r.format() == record.FormatIVF:
				r.d.log.Info("not recording the "+t.Kind().String()+": IVF holds video alone; record to .webm to keep it", "ssrc", t.SSRC())
				if r.d.viewer == nil {
					want--
					continue
				}
				// The viewer's speaker still hears it (record keeps the
				// video alone in IVF).
			}
			tracks = append(tracks, t)
			if grace == nil {
				timer := time.NewTimer(trackGrace)
				defer timer.Stop()
				grace = timer.C
			}
		case <-grace:
			r.d.log.Debug("recording the tracks that came", "came", len(tracks), "said", want)
			return tracks, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
	return tracks, nil
}

// format is the container the output asks for, by its name.
func (r *receiver) format() record.Format {
	f, err := record.FormatForPath(r.d.output)
	if err != nil {
		return record.FormatWebM
	}
	return f
}

// failure returns what stopped the recording, once failed is closed.
func (r *receiver) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *receiver) open() (io.Writer, record.Format, error) {
	out := r.d.output
	if out == "" {
		// Only a viewer or the meter: frames are assembled for them, and
		// no file kept; the meter measures the sound too.
		if r.d.measure {
			return io.Discard, record.FormatWebM, nil
		}
		return io.Discard, record.FormatIVF, nil
	}
	if out == "-" {
		if r.d.outputTo == nil {
			return nil, 0, errors.New("no writer for the video")
		}
		return r.d.outputTo, record.FormatWebM, nil
	}
	f, err := record.FormatForPath(out)
	if err != nil {
		return nil, 0, err
	}
	file := r.d.takeFile()
	if file == nil {
		return nil, 0, errors.New("output file not opened")
	}
	r.file = file // the receiver closes it now
	return file, f, nil
}

// record writes the remote tracks until they end: into one file, each
// read by a goroutine of its own. The video's frames also go to the
// viewer and the meter.
func (r *receiver) record(tracks []peer.RemoteTrack) error {
	var hear func(*rtp.Packet) // the speaker's, for the heard track
	w, format, err := r.open()
	if err != nil {
		return err
	}
	opts := record.Options{
		Format: format,
		Logger: r.d.log,
		RTT:    r.d.peer.RoundTrip,
		// A player reading a pipe gets the live picture, not a backlog.
		Live: r.d.output == "-" && !isRegular(r.d.outputTo),
	}
	// The viewer's speaker hears the first audio track, recorded or not.
	var heard *peer.RemoteTrack
	if sp, ok := r.d.viewer.(Speaker); ok {
		for i, t := range tracks {
			if t.Kind() == codec.Audio {
				heard = &tracks[i]
				break
			}
		}
		if heard != nil {
			t := *heard
			heard = &t
			hear = r.hearer(sp, t)
		}
	}
	if format == record.FormatIVF {
		// Only a viewer (no file), or an .ivf file: the video alone.
		tracks = slices.DeleteFunc(tracks, func(t peer.RemoteTrack) bool { return t.Kind() != codec.Video })
		if len(tracks) == 0 {
			if heard != nil {
				// Sound alone, for the viewer's speaker.
				listen(*heard, hear)
			}
			return nil
		}
		tracks = tracks[:1]
	}
	var videoSSRCs []uint32
	var videoReports func(*rtp.Packet) // the viewer's, for the shown track
	// The meter measures the first audio track's beeps too.
	sound := slices.IndexFunc(tracks, isAudio)
	for _, t := range tracks {
		ssrc := t.SSRC()
		rt := record.Track{Codec: t.Codec, RequestKeyFrame: func() { _ = r.d.peer.RequestKeyFrame(ssrc) }}
		if t.Codec.CodecPrivate != nil {
			rt.CodecPrivate = t.Codec.CodecPrivate()
		}
		if t.Kind() == codec.Video && len(videoSSRCs) == 0 {
			videoSSRCs = append(videoSSRCs, ssrc)
			var audio codec.Descriptor
			if sound >= 0 {
				audio = tracks[sound].Codec
			}
			if err := r.watchVideo(&rt, audio); err != nil {
				return err
			}
			videoReports = r.reportsTo(t)
		}
		if t.Kind() == codec.Audio && r.d.meterAudio && r.audioTrack < 0 {
			if m := newAudioMeter(t.Codec); m != nil {
				r.mu.Lock()
				r.audio, r.audioTrack = m, len(opts.Tracks)
				r.mu.Unlock()
				rt.OnFrame = m.frame
			}
		}
		opts.Tracks = append(opts.Tracks, rt)
	}
	if r.meter != nil && sound >= 0 {
		// After the loop: the video track, whose watchVideo made the
		// meter, may come after the sound.
		rt := &opts.Tracks[sound]
		stats, m := rt.OnFrame, r.meter
		rt.OnFrame = func(data []byte, key bool, ts uint32) {
			m.AudioFrame(data, ts)
			if stats != nil {
				stats(data, key, ts)
			}
		}
	}
	rec, err := record.New(w, opts)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.rec = rec
	r.res.output = r.d.output
	r.mu.Unlock()
	if r.d.output != "" {
		r.d.emit(Recording{Output: r.d.output})
	}
	for _, ssrc := range videoSSRCs {
		// Ask for a keyframe at once rather than waiting for the next one.
		_ = r.d.peer.RequestKeyFrame(ssrc)
		if opts.Live {
			defer r.keyFramesEvery(pipeKeyFrames, ssrc)()
		}
	}
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		werr    error
	)
	for i, t := range tracks {
		var h func(*rtp.Packet)
		if heard != nil && t.SSRC() == heard.SSRC() {
			h, heard = hear, nil
		}
		if videoReports != nil && len(videoSSRCs) > 0 && t.SSRC() == videoSSRCs[0] {
			h = videoReports
		}
		wg.Go(func() {
			if err := r.read(rec, i, t, h); err != nil {
				errOnce.Do(func() { werr = err })
			}
		})
	}
	if heard != nil {
		// Heard, not recorded (the output holds video alone).
		wg.Go(func() { listen(*heard, hear) })
	}
	wg.Wait()
	return werr
}

// watchVideo has the video's frames shown by the viewer and measured,
// as either is asked for, and its first frame announced. audio, when
// set, is the codec of the sound the meter measures beside.
func (r *receiver) watchVideo(t *record.Track, audio codec.Descriptor) error {
	if r.d.measure {
		m, err := measure.New(measure.Options{Codec: t.Codec, Audio: audio, Logger: r.d.log})
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.meter = m
		r.mu.Unlock()
		t.OnFrame = func(data []byte, key bool, _ uint32) { m.Frame(data, key) }
	}
	if v := r.d.viewer; v != nil {
		measured := t.OnFrame
		show := func(data []byte, key bool, _ uint32) { v.Frame(data, key) }
		if sy, ok := v.(Syncer); ok {
			show = sy.FrameAt
		}
		t.OnFrame = func(data []byte, key bool, ts uint32) {
			show(data, key, ts)
			if measured != nil {
				measured(data, key, ts)
			}
		}
	}
	return nil
}

// read moves track i's packets into rec until the track ends (the peer
// closed: a normal end) or writing fails; hear, when not nil, hears each
// packet first.
func (r *receiver) read(rec *record.Recorder, i int, t peer.RemoteTrack, hear func(*rtp.Packet)) error {
	announce := i == 0
	reported := false
	for {
		pkt, _, err := t.Track.ReadRTP()
		if err != nil {
			return nil
		}
		if hear != nil {
			hear(pkt)
		}
		if err := rec.WriteRTP(i, pkt); err != nil {
			return fmt.Errorf("write %s: %w", t.Kind(), err)
		}
		if !reported {
			// The first sender report of the stream puts it in sync
			// with the others (see record.Recorder.SenderReport).
			if sr, ok := r.d.peer.SenderReportFor(pkt.SSRC); ok {
				rec.SenderReport(i, pkt.SSRC, sr.NTP, sr.RTPTime)
				reported = true
			}
		}
		if announce {
			if st := rec.Stats(); st.FramesWritten > 0 {
				announce = false
				after := time.Since(r.connected)
				r.mu.Lock()
				r.res.firstFrame = after
				r.mu.Unlock()
				r.d.emit(FirstFrame{Width: st.Width, Height: st.Height, After: after})
			}
		}
	}
}

// reportCheck is how often the viewer's tracks look for a new sender
// report (they come every second or so).
const reportCheck = 250 * time.Millisecond

// reportsTo returns what passes the sender reports of t on to the viewer,
// when it is a Syncer, as its packets go by: nil otherwise. The returned
// function is called on t's receiving goroutine.
func (r *receiver) reportsTo(t peer.RemoteTrack) func(*rtp.Packet) {
	sy, ok := r.d.viewer.(Syncer)
	if !ok {
		return nil
	}
	var (
		count uint64
		next  time.Time
	)
	kind, rate := t.Kind(), t.Codec.ClockRate
	return func(p *rtp.Packet) {
		now := time.Now()
		if rate == 0 || now.Before(next) {
			return
		}
		next = now.Add(reportCheck)
		sr, ok := r.d.peer.SenderReportFor(p.SSRC)
		if !ok || sr.Count == count {
			return
		}
		count = sr.Count
		sy.SenderReport(kind, sr.NTP, sr.RTPTime, rate)
	}
}

// hearer returns what hands t's packets to the speaker sp, and the
// track's sender reports to the viewer when it is a Syncer.
func (r *receiver) hearer(sp Speaker, t peer.RemoteTrack) func(*rtp.Packet) {
	reports := r.reportsTo(t)
	return func(p *rtp.Packet) {
		sp.Audio(t.Codec, p.Payload, p.Timestamp)
		if reports != nil {
			reports(p)
		}
	}
}

// isAudio says whether t is a sound track.
func isAudio(t peer.RemoteTrack) bool { return t.Kind() == codec.Audio }

// hearLate hands the first sound track that comes after the recording
// started (a microphone can take longer than trackGrace to start) to the
// viewer's speaker, unrecorded, until the track ends or ctx does.
func (r *receiver) hearLate(ctx context.Context) {
	sp := r.d.viewer.(Speaker)
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-r.d.peer.Tracks():
			if t.Err != nil || !isAudio(t) {
				continue
			}
			r.d.log.Debug("a late sound track: played, not recorded", "ssrc", t.SSRC())
			listen(t, r.hearer(sp, t))
			return
		}
	}
}

// listen hands t's packets to hear until the track ends.
func listen(t peer.RemoteTrack, hear func(*rtp.Packet)) {
	for {
		pkt, _, err := t.Track.ReadRTP()
		if err != nil {
			return
		}
		hear(pkt)
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
				_ = r.d.peer.RequestKeyFrame(ssrc)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// audioStats returns the received sound's figures: the recorder's of its
// track and the meter's (final: the level over the call); false when it
// is not metered.
func (r *receiver) audioStats(final bool) (record.TrackStats, audioFigures, bool) {
	r.mu.Lock()
	rec, m, i := r.rec, r.audio, r.audioTrack
	r.mu.Unlock()
	if rec == nil || m == nil {
		return record.TrackStats{}, audioFigures{}, false
	}
	st := rec.Stats()
	if i >= len(st.Tracks) {
		return record.TrackStats{}, audioFigures{}, false
	}
	return st.Tracks[i], m.read(final), true
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
	out := &Measured{
		LatencyP50: ms(f.LatencyP50), LatencyP95: ms(f.LatencyP95), LatencyMax: ms(f.LatencyMax),
		FrozenMs: ms(f.Frozen), PSNR: round1(f.PSNR),
		FramesLost: f.Lost, Unreadable: f.Unreadable, DecodeError: f.DecodeErrs,
	}
	if f.Beeps > 0 {
		out.Beeps = f.Beeps
		out.AudioDelayP50, out.AudioDelayMax = ms(f.AudioDelayP50), ms(f.AudioDelayMax)
	}
	if f.AVOffsets > 0 {
		v := ms(f.AVOffsetP50)
		out.AVOffset = &v
	}
	if p, ok := r.d.viewer.(Presenter); ok {
		if p50, p95, shown, dropped := p.PresentDelay(final); shown > 0 || dropped > 0 {
			out.ViewMeasured = &ViewMeasured{PresentP50: ms(p50), PresentP95: ms(p95), Presented: shown, Dropped: dropped}
		}
	}
	return out
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
			err = fmt.Errorf("finalize %s: %w", r.d.output, cerr)
		}
		st := r.rec.Stats()
		r.res.framesRecv = st.FramesWritten
	}
	if r.meter != nil {
		defer r.meter.Close()
	}
	if r.audio != nil {
		defer r.audio.close()
	}
	if r.file != nil {
		if cerr := r.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", r.d.output, cerr)
		}
	}
	return err
}

// result returns what was received, for the session's Result; final once
// close has returned.
func (r *receiver) result() received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res
}
