// Package record is the last stage of p2pcam's receive pipeline: it turns
// the RTP packets of the remote tracks into one playable file or stream on
// any io.Writer: WebM with every track (video and audio), or IVF for a
// single video track.
//
// The recorder takes the tracks up front, each with its codec's
// descriptor (package codec): the descriptor's depacketizer rebuilds whole
// frames from reordered packets (see assembler), writing each the moment
// its last missing packet is in; its IsKeyFrame, FrameSize, clock rate and
// container IDs do the rest, so the recorder names no codec. Nothing is
// written until the first complete keyframe of the main track (the first
// video track); frame times come from each track's RTP timestamps, put on
// one timeline for lip sync by the sender's RTCP sender reports (see
// SenderReport and clockMap; by each track's first arrival until they
// come), and the frames of all tracks go into the container interleaved
// by time. Audio needs no keyframe, so a lost packet is a hole at its
// time: an audio frame is dropped, never moved, when it comes too late to
// interleave. A WebM audio track's header is its descriptor's: the
// OpusHead as CodecPrivate (its channel count also in the Audio element),
// CodecDelay and SeekPreRoll.
//
// It knows nothing about peer connections: pkg/peer (or a test) feeds it
// packets with WriteRTP, naming the track, and each Track's
// RequestKeyFrame callback sends a PLI (RFC 4585 section 6.3.1).
package record

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// ErrClosed is returned by WriteRTP after Close.
var ErrClosed = errors.New("recorder closed")

// ErrTracks is wrapped by New when the tracks do not fit the format: none,
// more than one or a non-video track for IVF, or a codec the container
// cannot name.
var ErrTracks = errors.New("tracks do not fit the output format")

// Defaults used for zero fields of Options.
const (
	DefaultMaxLate  = 1024                   // packets
	DefaultMaxDelay = 500 * time.Millisecond // how long a missing packet is awaited
)

// keyFrameInterval is the least time between two RequestKeyFrame calls of
// a track.
const keyFrameInterval = 500 * time.Millisecond

// interleaveWait is how far (in milliseconds of recording time) the
// tracks may run ahead of a track that went quiet before its frames are
// written without waiting for it.
const interleaveWait = 250

// Track is one track of a recording.
type Track struct {
	// Codec describes the track's codec: its depacketizer, keyframe
	// probe, clock rate and container IDs are what the recorder uses.
	Codec codec.Descriptor
	// RequestKeyFrame, if not nil, is called while the recorder waits for
	// a keyframe of this track (at the start, or after a lost frame), at
	// most once every 500 ms. It is called from WriteRTP's goroutine with
	// no lock held and must not block; sending a PLI is the intended use.
	RequestKeyFrame func()
	// OnFrame, if not nil, sees every frame of the track written, on
	// WriteRTP's goroutine and within the WriteRTP call that completed the
	// frame (see WriteRTP): the frame, whether it is a keyframe, and its
	// RTP timestamp. data is only valid during the call. The viewer and
	// the --measure mode decode frames here.
	OnFrame func(data []byte, keyFrame bool, rtpTimestamp uint32)
	// CodecPrivate is the track's Matroska CodecPrivate (Opus: its
	// identification header, RFC 7845 section 5.1); nil means the
	// descriptor's (Codec.CodecPrivate), if it has one. IVF has no place
	// for it. The track's CodecDelay and SeekPreRoll in WebM are the
	// descriptor's.
	CodecPrivate []byte
	// Channels and SampleRate describe an audio track in WebM; 0 means
	// the channel count of CodecPrivate when it is an OpusHead (a
	// decoder must be told the same count twice), else the descriptor's
	// Channels (at least 1), and the descriptor's ClockRate. A Channels
	// that contradicts the OpusHead is an ErrTracks.
	Channels   int
	SampleRate float64
}

// Options configure a Recorder.
type Options struct {
	// Format is the container written to w.
	Format Format
	// Tracks are the recording's tracks, at least one; WriteRTP names
	// them by index. IVF takes exactly one, a video track.
	Tracks []Track
	// Logger receives debug and info records; nil discards them.
	Logger *slog.Logger
	// MaxLate is the reorder window in packets: a missing packet is given
	// up once this many later ones of its track arrived. It must exceed
	// the packets of the largest frame (a 720p keyframe is about 100); 0
	// means 1024.
	MaxLate uint16
	// MaxDelay bounds how long a missing packet is waited for, counted on
	// the wall clock from the arrival of the first packet after it (when
	// the NACK generator notices the gap too); then the frames behind it
	// are released and the track waits for a keyframe. 0 means 500 ms.
	// The wait is only checked when a packet arrives: the Recorder has no
	// timer of its own.
	MaxDelay time.Duration
	// RTT, if not nil, returns the current round-trip time, or 0 while it
	// is unknown. It is called on WriteRTP's goroutine, only while a packet
	// is missing, and must not block. A missing packet is then waited for
	// only as long as its retransmission can take: two round trips plus
	// 50 ms, at least 120 ms, never beyond MaxDelay (there is no point
	// holding later frames back for a repair that cannot come). Without
	// RTT, or while it returns 0, the wait is MaxDelay.
	RTT func() time.Duration
	// Live means w is watched as it comes, by a player reading a pipe:
	// frames go to w through a short queue (8 frames of the main track,
	// 200 ms) on a goroutine of the Recorder's own, so WriteRTP never
	// waits for w, and when w's reader falls behind (the queue is full, or
	// one write took over 200 ms) the queue is emptied up to a keyframe
	// of the main track (asking for one) and the frames after it are moved
	// back in time to close the hole, so the reader gets the live picture
	// instead of a backlog, and a decodable stream with strictly
	// increasing times (Stats.FramesBehind counts the frames so dropped).
	// The other tracks' frames are dropped and moved with the main
	// track's. Without Live every frame is written, and WriteRTP blocks
	// while w blocks.
	//
	// On Linux, when w is an *os.File on a pipe, Live also shrinks the
	// pipe's buffer to one page (F_SETPIPE_SZ): video waiting in a 64 KiB
	// pipe buffer would reach a late reader stale, and a player that
	// plays by the stream's clock stays behind by as much.
	Live bool
}

// TrackStats are the counters of one track since New.
type TrackStats struct {
	PacketsReceived uint64 // packets given to WriteRTP, padding included
	// PacketsLost is expected minus received packets as in RFC 3550
	// appendix A.3, per SSRC, never negative. A jump of more than
	// Options.MaxLate sequence numbers is taken for a restart, not a loss.
	PacketsLost uint64
	// FramesWritten counts frames written to w, KeyFrames those that are
	// keyframes.
	FramesWritten uint64
	KeyFrames     uint64
	// FramesDropped counts frames of which packets arrived but that were
	// not written: delta frames before the first keyframe or after a loss,
	// frames with packets lost (start, middle or end), malformed ones,
	// and frames of the other tracks from before the recording started
	// (the main track's first keyframe), and audio frames that came after
	// later frames of the other tracks were written (held behind a lost
	// packet longer than the interleaver waits). Frames none of whose
	// packets arrived show up in PacketsLost only.
	FramesDropped uint64
	// FramesBehind counts the frames not written because the output's
	// reader was behind (Options.Live), keyframes included; they are not
	// in FramesWritten or KeyFrames.
	FramesBehind     uint64
	KeyFrameRequests uint64 // RequestKeyFrame calls
	// Width and Height come from the latest keyframe written of a video
	// track; 0 before, and for audio.
	Width, Height int
	// FirstFrame is the wall-clock time the first frame was written; zero
	// before that.
	FirstFrame time.Time
	// Duration is the RTP time from the first to the last frame written.
	Duration time.Duration
	// LongestFreeze is the largest RTP-time gap between two consecutive
	// frames written: the longest still picture in the recording.
	LongestFreeze time.Duration
	// Freezes and FrozenTime are WebRTC's freezeCount and
	// totalFreezesDuration (webrtc-stats) for what a live viewer of the
	// output sees, so they use the wall-clock times at which frames were
	// written. The gap d between two consecutive frames written is a
	// freeze when d >= max(3m, m + 150 ms), m being the median of the
	// gaps between the up to 30 frames before (libwebrtc takes their mean;
	// the median is not dragged up by the freezes themselves, nor down by
	// frames released together after a repair). Gaps are judged once 5
	// are known. FrozenTime adds up the whole gap of each freeze.
	Freezes    uint64
	FrozenTime time.Duration
}

// Stats are a Recorder's counters since New. The embedded TrackStats are
// the totals: the packet and frame counters summed over the tracks, the
// earliest FirstFrame, the longest Duration, and the picture figures
// (Width, Height, LongestFreeze, Freezes, FrozenTime) of the main track.
type Stats struct {
	TrackStats
	// BytesWritten is what w accepted, container overhead included.
	BytesWritten int64
	// Tracks holds each track's own figures, in the order of
	// Options.Tracks.
	Tracks []TrackStats
}

// Recorder writes the RTP streams of its tracks to an io.Writer. Its
// methods are safe for concurrent use; WriteRTP calls are meant to come
// from one goroutine per track, or one reading them all.
//
// When a frame is lost (its packets did not all arrive in time) the
// Recorder writes nothing of that track until its next keyframe, calling
// its RequestKeyFrame meanwhile, so every frame in the output decodes
// cleanly; the recording freezes instead of smearing. If a keyframe
// changes the frame size, IVF just carries on (decoders follow the
// keyframe header); WebM keeps the first size in its track header and
// goes on writing frames of the new size, which ffmpeg and browsers play
// at the new size.
//
// With several tracks, frames are held until the other tracks' frames up
// to their time are in (or those tracks ran interleaveWait behind), so
// the container gets them in time order; OnFrame and the counters see a
// frame when it is taken, which can be before it reaches w.
type Recorder struct {
	mu     sync.Mutex // guards everything below but stats
	closed bool
	err    error // Close's result, returned again by later calls

	format   Format
	log      *slog.Logger
	maxLate  uint16
	maxDelay time.Duration
	rtt      func() time.Duration
	now      func() time.Time // time.Now; tests put a fake clock here

	out    *output
	seeker *seekOutput
	mux    muxer // nil until the first keyframe; the queue's own when live
	live   bool
	queue  *liveQueue // frames on their way to mux, when live
	// started: the main track's first keyframe was taken and the muxer
	// started (or, when live, handed to the queue to start).
	started bool
	// zero is the shared-clock time of the main track's first frame:
	// time zero of the recording.
	zero time.Time

	tracks []*track
	main   *track
	inter  *interleaver // nil with one track

	statsMu sync.Mutex
	stats   Stats // BytesWritten and Tracks; Stats adds up the totals
	// cutTotal is the frames a salvaged output holds whole, when it has
	// several tracks (0 otherwise).
	cutTotal uint64
}

// track is the state of one track of a Recorder, used under its mu but
// for stats, which is under statsMu.
type track struct {
	i       int
	codec   codec.Descriptor
	main    bool
	reqKey  func()
	onFrame func([]byte, bool, uint32)
	header  trackHeader

	asm     *assembler
	seq     sequence       // sequence numbers and losses of the current SSRC
	waitKey bool           // drop delta frames until a keyframe
	lastReq time.Time      // last RequestKeyFrame
	wantKey bool           // a RequestKeyFrame call is due after the lock
	times   timeline       // frame times from RTP timestamps
	gaps    freezeDetector // Stats.Freezes
	clock   clockMap       // RTP time to the shared clock, from arrival
	sr      clockMap       // the same from the latest sender report of the SSRC
	srSSRC  uint32         // the SSRC sr is of
	started bool           // its first frame was written
	firstTS uint32         // the RTP timestamp of its first frame written
	offset  int64          // ms from the recording's start to its first frame
	synced  bool           // offset comes from sender reports
	// srZero is, for the main track, where its first frame falls on the
	// sender's clock by its latest report (srZeroSet says it is known).
	srZero    time.Time
	srZeroSet bool
	// slew is how far (µs) following the sender reports moved t's frames
	// since offset was set (see follow); lastMS is its last frame's ms.
	slew   float64
	lastMS int64
	wrote  bool // lastMS is set
}

// clockMap maps one track's RTP timestamps to a wall clock shared by all
// tracks, which is what puts them in sync (RFC 3550 section 6.4.1). Two
// maps of each track: one from its first packet, taken as sent when it
// arrived (right to within the difference of the tracks' network and
// jitter buffer delays), and one from the latest RTCP sender report of
// its stream (see Recorder.SenderReport), which pairs an RTP timestamp
// with the sender's own wall clock and so puts the tracks in sync as the
// sender stamped them. A track's place on the recording's timeline comes
// from the reports once the main track's and its own are in, from
// arrival until then; later reports keep it there (see follow).
type clockMap struct {
	set   bool
	ts    uint32    // an RTP timestamp
	at    time.Time // its time on the shared clock
	clock int64     // RTP ticks per second
}

// wall returns the shared-clock time of RTP timestamp ts, which must lie
// within 2^31 ticks of the mapped one.
func (c *clockMap) wall(ts uint32) time.Time {
	d := int64(int32(ts - c.ts)) // #nosec G115: wraps on purpose
	return c.at.Add(time.Duration(d) * time.Second / time.Duration(c.clock))
}

// New returns a Recorder writing opts.Format with opts.Tracks to w.
// Nothing is written until the first keyframe of the main track, whose
// header gives the frame size. It fails with an error wrapping
// ErrUnsupportedFormat for an unknown Format, and ErrTracks when the
// tracks do not fit it (IVF holds one video track: use WebM for more).
//
// If w is an io.WriteSeeker that can seek (an *os.File must be a regular
// file), Close finalizes the file: for WebM, ebml-go's Duration and Cues;
// for IVF, the frame count in the header. Otherwise (a pipe, a socket, a
// buffer) the output is a stream: WebM with unknown-size segment and
// clusters, IVF with a frame count of 0, and Close only flushes.
//
// The Recorder never closes w; the caller does, after Close.
func New(w io.Writer, opts Options) (*Recorder, error) {
	if w == nil {
		return nil, errors.New("record: nil writer")
	}
	if opts.Format != FormatWebM && opts.Format != FormatIVF {
		return nil, fmt.Errorf("record: %w: %v", ErrUnsupportedFormat, opts.Format)
	}
	if err := checkTracks(opts.Format, opts.Tracks); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &Recorder{
		format:   opts.Format,
		log:      opts.Logger,
		maxLate:  opts.MaxLate,
		maxDelay: opts.MaxDelay,
		rtt:      opts.RTT,
		live:     opts.Live,
		now:      time.Now,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.maxLate == 0 {
		r.maxLate = DefaultMaxLate
	}
	if r.maxDelay <= 0 {
		r.maxDelay = DefaultMaxDelay
	}
	r.out, r.seeker = newOutput(w)
	if r.live && r.seeker == nil && shrinkPipe(w) {
		r.log.Debug("record: live pipe buffer shrunk", "bytes", livePipeSize)
	}
	main := 0
	for i, t := range opts.Tracks {
		if t.Codec.Kind == codec.Video {
			main = i
			break
		}
	}
	for i, t := range opts.Tracks {
		if t.CodecPrivate == nil && t.Codec.CodecPrivate != nil {
			t.CodecPrivate = t.Codec.CodecPrivate()
		}
		tr := &track{
			i:       i,
			codec:   t.Codec,
			main:    i == main,
			reqKey:  t.RequestKeyFrame,
			onFrame: t.OnFrame,
			waitKey: true,
			header: trackHeader{
				codec:       t.Codec,
				channels:    t.Channels,
				sampleRate:  t.SampleRate,
				private:     t.CodecPrivate,
				codecDelay:  t.Codec.CodecDelay,
				seekPreRoll: t.Codec.SeekPreRoll,
			},
		}
		if tr.header.channels == 0 {
			tr.header.channels = int(t.Codec.Channels)
			if n, ok := opusHeadChannels(t.CodecPrivate); ok {
				tr.header.channels = n
			}
		}
		if tr.header.sampleRate == 0 {
			tr.header.sampleRate = float64(t.Codec.ClockRate)
		}
		tr.times.clock = int64(t.Codec.ClockRate)
		tr.clock.clock = tr.times.clock
		tr.asm = newAssembler(r.maxLate, r.wait, t.Codec.NewDepacketizer())
		tr.asm.now = func() time.Time { return r.now() }
		r.tracks = append(r.tracks, tr)
	}
	r.main = r.tracks[main]
	if len(r.tracks) > 1 {
		r.inter = newInterleaver(len(r.tracks))
	}
	r.stats.Tracks = make([]TrackStats, len(r.tracks))
	return r, nil
}

// checkTracks reports why tracks cannot be recorded in format, or nil.
func checkTracks(format Format, tracks []Track) error {
	if len(tracks) == 0 {
		return fmt.Errorf("%w: no tracks", ErrTracks)
	}
	for i, t := range tracks {
		switch {
		case t.Codec.ClockRate == 0 || t.Codec.NewDepacketizer == nil || t.Codec.IsKeyFrame == nil:
			return fmt.Errorf("%w: track %d: codec %q lacks a clock rate, depacketizer or keyframe probe", ErrTracks, i, t.Codec.MimeType)
		case t.Codec.Kind == codec.Video && t.Codec.FrameSize == nil:
			return fmt.Errorf("%w: track %d: video codec %q cannot tell its frame size", ErrTracks, i, t.Codec.MimeType)
		case format == FormatWebM && t.Codec.ContainerID == "":
			return fmt.Errorf("%w: track %d: WebM has no codec ID for %q", ErrTracks, i, t.Codec.MimeType)
		}
		if n, ok := opusHeadChannels(t.CodecPrivate); ok && t.Channels != 0 && t.Channels != n {
			return fmt.Errorf("%w: track %d: %d channels, but its OpusHead says %d", ErrTracks, i, t.Channels, n)
		}
	}
	if format == FormatIVF {
		switch t := tracks[0].Codec; {
		case len(tracks) > 1:
			return fmt.Errorf("%w: ivf holds one video track, not %d tracks; use .webm", ErrTracks, len(tracks))
		case t.Kind != codec.Video:
			return fmt.Errorf("%w: ivf holds video only, not %s (%s); use .webm", ErrTracks, t.Kind, t.MimeType)
		case t.FourCC == "":
			return fmt.Errorf("%w: ivf has no codec ID for %q; use .webm", ErrTracks, t.MimeType)
		}
	}
	return nil
}

// opusHeadChannels returns the output channel count of private when it
// is an OpusHead (RFC 7845 section 5.1: the magic "OpusHead", a version,
// the count at byte 9).
func opusHeadChannels(private []byte) (int, bool) {
	if len(private) < 19 || string(private[:8]) != "OpusHead" || private[9] == 0 {
		return 0, false
	}
	return int(private[9]), true
}

// wait is how long the assembler waits for a missing packet now.
func (r *Recorder) wait() time.Duration {
	if r.rtt == nil {
		return r.maxDelay
	}
	return waitFor(r.rtt(), r.maxDelay)
}

// WriteRTP adds one packet of the track Options.Tracks[track]. It does
// not keep p: the payload is copied. A frame is taken (and OnFrame
// called) within the WriteRTP call that completes it: the one carrying
// its last missing packet, not the next frame's first one. Frames stuck
// behind a missing packet are taken by the first WriteRTP of their track
// after the wait for it ran out (see Options.MaxDelay), or by Close.
//
// It returns ErrClosed after Close, and the first error writing w (wrapped);
// after a write error the recording is broken and the caller should stop.
// Lost, late, duplicate and malformed packets are not errors: they are
// counted in Stats. WriteRTP blocks while w blocks, unless Options.Live.
func (r *Recorder) WriteRTP(track int, p *rtp.Packet) error {
	if p == nil {
		return errors.New("record: nil packet")
	}
	if track < 0 || track >= len(r.tracks) {
		return fmt.Errorf("record: no track %d of %d", track, len(r.tracks))
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.push(r.tracks[track], p)
	_, err := r.out.state()
	calls := r.dueRequests()
	r.mu.Unlock()
	for _, f := range calls {
		f()
	}
	if err != nil {
		return fmt.Errorf("record: write output: %w", err)
	}
	return nil
}

// dueRequests returns the RequestKeyFrame calls that came due, and clears
// them.
func (r *Recorder) dueRequests() []func() {
	var calls []func()
	for _, t := range r.tracks {
		if t.wantKey {
			t.wantKey = false
			calls = append(calls, t.reqKey)
		}
	}
	return calls
}

// push runs with mu held.
func (r *Recorder) push(t *track, p *rtp.Packet) {
	defer r.countPacket(t)

	if !t.clock.set {
		t.clock.set, t.clock.ts, t.clock.at = true, p.Timestamp, r.now()
	}
	if t.seq.started && p.SSRC != t.seq.ssrc {
		r.log.Info("record: new RTP source, waiting for a keyframe",
			"track", t.i, "old_ssrc", t.seq.ssrc, "ssrc", p.SSRC)
		r.resync(t)
		t.sr = clockMap{} // the new stream's reports will say
		t.srZeroSet = false
	}
	if !t.seq.started {
		t.seq.restart(p.SSRC, p.SequenceNumber)
	}

	seq := t.seq.extend(p.SequenceNumber)
	switch {
	case seq > t.seq.highest+int64(r.maxLate):
		// A jump past the reorder window: a long outage or a restarted
		// sender. The buffered frames cannot be completed any more.
		r.log.Debug("record: sequence number jump", "track", t.i, "from", t.seq.highest, "to", seq)
		r.resync(t)
		t.seq.restart(p.SSRC, p.SequenceNumber)
		seq = t.seq.first
	case seq < t.seq.highest-int64(r.maxLate):
		// Too late to use. Many in a row mean the sequence restarted
		// behind us; a later packet then resynchronizes.
		if t.seq.late() {
			r.resync(t)
		}
		return
	}
	t.seq.add(seq)

	if len(p.Payload) == 0 {
		// Padding only (RFC 3550 section 5.1): no media, but its
		// sequence number is not a loss either.
		t.asm.push(seq, p.Timestamp, p.Marker, nil)
	} else {
		t.asm.push(seq, p.Timestamp, p.Marker, p.Payload)
	}
	r.drain(t, false)
}

// countPacket updates t's packet counters after push.
func (r *Recorder) countPacket(t *track) {
	lost := t.seq.lost()
	r.statsMu.Lock()
	st := &r.stats.Tracks[t.i]
	st.PacketsReceived++
	st.PacketsLost = uint64(lost) // #nosec G115: non-negative
	r.statsMu.Unlock()
}

// resync flushes t's assembler and starts it afresh, as after an SSRC
// change or a jump in sequence numbers; the next frame of t written must
// be a keyframe. The next packet starts a new sequence.
func (r *Recorder) resync(t *track) {
	r.drain(t, true)
	t.seq.end()
	t.asm.reset()
	t.waitKey = true
	t.times.newSource()
}

// drain takes every released frame of t out of its assembler; with
// flush, it gives up on missing packets to empty it.
func (r *Recorder) drain(t *track, flush bool) {
	for {
		f, ok := t.asm.pop(flush)
		if !ok {
			return
		}
		r.frame(t, &f)
	}
}

// frame handles one frame of t from its assembler.
func (r *Recorder) frame(t *track, f *frame) {
	if f.gap || !f.complete {
		if !t.waitKey {
			r.log.Debug("record: frame lost, waiting for a keyframe", "track", t.i, "seq", f.first)
		}
		t.waitKey = true
	}
	if !f.complete {
		r.drop(t, true)
		return
	}
	key := t.codec.IsKeyFrame(f.data)
	if t.waitKey && !key {
		r.drop(t, true)
		return
	}
	var width, height int
	if key && t.codec.FrameSize != nil {
		var err error
		if width, height, err = t.codec.FrameSize(f.data); err != nil {
			r.log.Debug("record: bad keyframe", "track", t.i, "err", err)
			t.waitKey = true
			r.drop(t, true)
			return
		}
	}

	ts := t.times.unwrap(f.ts, t.started, r.now)
	if !r.started {
		if !t.main {
			// The recording starts with the main track's keyframe.
			r.drop(t, false)
			return
		}
		t.header.width, t.header.height = width, height
		if !r.start() {
			return
		}
		r.zero = t.clock.wall(f.ts)
	}
	if !t.started {
		// The track's first frame: where it falls on the recording's
		// timeline, by the shared clock.
		if t.main {
			t.firstTS = f.ts
		}
		offset, synced := r.offsetOf(t, f.ts)
		if offset < 0 {
			r.drop(t, false)
			return
		}
		t.started, t.offset, t.synced, t.firstTS = true, offset, synced, f.ts
		t.times.start(ts)
		if t.main && t.sr.set {
			t.srZero, t.srZeroSet = t.sr.wall(f.ts), true
		}
	}
	pts := t.times.pts(ts)
	t.waitKey = false
	ms := t.offset + t.times.ms(pts)
	if !t.main {
		ms = r.follow(t, f.ts, pts)
	}
	lf := liveFrame{track: t.i, main: t.main, key: key, audio: t.codec.Kind == codec.Audio, pts: ms, data: f.data}
	if r.inter == nil {
		// One track: straight to the output, counted once written.
		if !r.send(lf, false) {
			if t.onFrame != nil {
				// The viewer and the meter see every frame all the same.
				t.onFrame(f.data, key, f.ts)
			}
			return
		}
	}
	if t.onFrame != nil {
		t.onFrame(f.data, key, f.ts)
	}
	r.written(t, key, pts, width, height)
	if r.inter != nil {
		r.inter.add(lf)
		r.release(false)
	}
}

// offsetOf returns where RTP timestamp ts of t falls on the recording's
// timeline, in ms from its start (the main track's first frame), and
// whether the sender reports of t and the main track put it there (else
// the arrival of their first packets did).
func (r *Recorder) offsetOf(t *track, ts uint32) (int64, bool) {
	if m := r.main; m.srZeroSet && t.sr.set && m.started {
		return t.sr.wall(ts).Sub(m.srZero).Milliseconds(), true
	}
	return t.clock.wall(ts).Sub(r.zero).Milliseconds(), false
}

// SenderReport tells the Recorder what an RTCP sender report (RFC 3550
// section 6.4.1) of track's stream said: its RTP timestamp rtpTime was
// ntp on the sender's wall clock. ssrc names the stream; a report of
// another than the one the track is receiving is ignored. Once the main
// track's first report and another track's are in, that track is placed
// against the main track as the sender's clock says (audio frames that
// the move puts before frames already written are dropped; a move the
// other way leaves a hole), and tracks starting later are placed so from
// their first frame. Until then, tracks are placed by the arrival of
// their first packets. Every later report keeps the tracks where the
// sender's clock puts them, as the streams' clocks drift apart (see
// follow).
func (r *Recorder) SenderReport(track int, ssrc uint32, ntp time.Time, rtpTime uint32) {
	if track < 0 || track >= len(r.tracks) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tracks[track]
	if r.closed || !t.seq.started || ssrc != t.seq.ssrc {
		return
	}
	first := !t.sr.set || t.srSSRC != ssrc
	t.sr = clockMap{set: true, ts: rtpTime, at: ntp, clock: t.clock.clock}
	t.srSSRC = ssrc
	if t.main && t.started && t.times.have {
		// The main track's first frame by this report: its unwrapped
		// timestamp against the report's.
		ext := t.times.ext + int64(int32(rtpTime-t.times.last)) // #nosec G115: wraps on purpose
		t.srZero = ntp.Add(-t.times.ticks(ext - t.times.first))
		t.srZeroSet = true
	}
	if !first {
		return
	}
	r.log.Debug("record: first sender report", "track", t.i, "ssrc", ssrc)
	for _, o := range r.tracks {
		if o.main || !o.started || o.synced {
			continue
		}
		if offset, ok := r.offsetOf(o, o.firstTS); ok {
			r.log.Debug("record: track placed by sender reports", "track", o.i, "from_ms", o.offset, "to_ms", offset)
			o.offset, o.synced = offset, true
			o.slew, o.wrote = 0, false // the move may go back: the interleaver drops what it puts before
		}
	}
}

// followTime is the time constant (of media time) over which follow
// moves a track onto where the latest sender reports put it: long enough
// to average out the jitter of the reports (each pairs an RTP time with
// when a packet was sent, some ms after capture), short enough to follow
// clocks that drift apart by hundreds of ppm.
const followTime = 4 * time.Second

// followMaxRate bounds how fast follow moves a track: at most 1 ms per
// 100 ms of media, so frames 20 ms apart stay in order and apart.
const followMaxRate = 0.01

// follow returns the recording's ms of t's frame at RTP timestamp ts and
// pts (ticks since t's first frame), a track other than the main one,
// and keeps t on the sender's clock: placed once by the first sender
// reports, its frames would then be timed by its RTP clock alone, and
// over a long call the RTP clocks of the tracks drift apart against the
// sender's wall clock (a microphone's crystal that is 100 ppm off moves
// the sound by 60 ms in 10 minutes). So, while both streams' reports are
// in, each frame moves t by a part of the distance between where t's
// latest report and the main track's put it and where its RTP clock
// does: smoothly (a first-order filter with time constant followTime,
// bounded by followMaxRate), never so as to reorder t's frames.
func (r *Recorder) follow(t *track, ts uint32, pts int64) int64 {
	us := float64(t.offset)*1000 + t.slew + float64(pts)*1e6/float64(t.clock.clock)
	if m := r.main; t.synced && t.sr.set && m.srZeroSet {
		want := float64(t.sr.wall(ts).Sub(m.srZero).Microseconds())
		dt := float64(time.Second / 50) // media time since t's last frame
		if t.wrote {
			dt = float64(t.times.ticks(pts-t.times.lastPTS)) / 1000 // µs
			dt = min(max(dt, 0), float64(followTime/time.Microsecond))
		}
		step := (want - us) * dt / float64(followTime/time.Microsecond)
		step = min(max(step, -followMaxRate*dt), followMaxRate*dt)
		t.slew += step
		us += step
	}
	ms := int64(math.Floor(us / 1000))
	if t.wrote && ms <= t.lastMS {
		ms = t.lastMS + 1
	}
	t.lastMS, t.wrote = ms, true
	return ms
}

// release hands the interleaver's frames that are due (all with flush)
// to the output.
func (r *Recorder) release(flush bool) {
	for {
		f, late, ok := r.inter.pop(flush)
		if !ok {
			return
		}
		if late {
			// Counted as written when it was taken: it is dropped now.
			r.statsMu.Lock()
			st := &r.stats.Tracks[f.track]
			st.FramesWritten--
			st.FramesDropped++
			r.statsMu.Unlock()
			continue
		}
		r.send(f, true) // a frame the live queue refuses is counted there
	}
}

// written counts a frame of t taken for the output at pts.
func (r *Recorder) written(t *track, key bool, pts int64, width, height int) {
	n, _ := r.out.state()
	now := r.now()
	freeze, frozen := t.gaps.add(now)
	r.statsMu.Lock()
	st := &r.stats.Tracks[t.i]
	if st.FramesWritten == 0 {
		st.FirstFrame = now
	} else if d := t.times.ticks(pts - t.times.lastPTS); d > st.LongestFreeze {
		st.LongestFreeze = d
	}
	if freeze {
		st.Freezes++
		st.FrozenTime += frozen
	}
	st.FramesWritten++
	if key {
		st.KeyFrames++
		if width != 0 {
			if st.Width != 0 && (width != st.Width || height != st.Height) {
				r.log.Info("record: frame size changed", "track", t.i,
					"from", fmt.Sprintf("%dx%d", st.Width, st.Height),
					"to", fmt.Sprintf("%dx%d", width, height))
			}
			st.Width, st.Height = width, height
		}
	}
	r.stats.BytesWritten = n
	st.Duration = t.times.ticks(pts)
	r.statsMu.Unlock()
	t.times.written(pts, now)
}

// send hands f to the muxer, or to the live queue, and reports whether
// it was written (or queued). counted says whether f is already in the
// counters, as frames that went through the interleaver are; a frame the
// queue refuses or drops is moved to FramesBehind. It notes the keyframe
// requests the live queue's drops call for.
func (r *Recorder) send(f liveFrame, counted bool) bool {
	if r.queue == nil {
		if err := r.mux.writeFrame(f.track, f.key, f.pts, f.data); err != nil {
			r.out.fail(err)
		}
		return true
	}
	queued, dropped, now := r.queue.put(f)
	for _, d := range dropped {
		r.behind(d)
	}
	if !queued && !counted {
		r.statsMu.Lock()
		r.stats.Tracks[f.track].FramesBehind++
		r.statsMu.Unlock()
	} else if !queued {
		r.behind(f)
	}
	if (!queued && f.main) || (len(dropped) > 0 && !f.key) {
		_ = r.requestDue(r.main) || (now && r.requestNow(r.main))
	}
	return queued
}

// behind moves a frame that was counted as written to FramesBehind: the
// live queue dropped it.
func (r *Recorder) behind(f liveFrame) {
	r.statsMu.Lock()
	st := &r.stats.Tracks[f.track]
	st.FramesBehind++
	st.FramesWritten--
	if f.key {
		st.KeyFrames--
	}
	r.statsMu.Unlock()
}

// start creates the muxer (or, when live, the queue that creates it) on
// the main track's first keyframe and reports whether it did; if not, the
// output failed and says why, and the next keyframe tries again.
func (r *Recorder) start() bool {
	if r.live {
		// The queue's goroutine writes the header too: nothing on this
		// one waits for w.
		r.queue = newLiveQueue(func() (muxer, error) {
			err := r.startMuxer()
			return r.mux, err
		}, r.out)
		r.started = true
		return true
	}
	if err := r.startMuxer(); err != nil {
		r.out.fail(err)
		return false
	}
	r.started = true
	return true
}

// startMuxer writes the container's header.
func (r *Recorder) startMuxer() error {
	headers := make([]trackHeader, len(r.tracks))
	for i, t := range r.tracks {
		headers[i] = t.header
		if t.codec.Kind == codec.Video && t.header.width == 0 {
			// A video track without a keyframe yet: the main track's
			// size stands in (players follow the keyframes).
			headers[i].width, headers[i].height = r.main.header.width, r.main.header.height
		}
	}
	// Assign r.mux only on success: a nil *webmMuxer in the interface
	// would not be nil, and Close would finish it.
	var (
		mux muxer
		err error
	)
	switch r.format {
	case FormatIVF:
		var m *ivfMuxer
		if m, err = newIVFMuxer(r.out, r.seeker, headers[0]); err == nil {
			mux = m
		}
	default:
		var m *webmMuxer
		if m, err = newWebMMuxer(r.out, r.seeker, headers, r.main.i); err == nil {
			mux = m
		}
	}
	if err == nil {
		r.mux = mux
		r.log.Debug("record: first keyframe", "format", r.format, "tracks", len(r.tracks),
			"width", r.main.header.width, "height", r.main.header.height, "seekable", r.seeker != nil)
	}
	return err
}

// drop counts a frame of t not written and, when request is set, asks
// for a keyframe of t if one is due.
func (r *Recorder) drop(t *track, request bool) {
	r.statsMu.Lock()
	r.stats.Tracks[t.i].FramesDropped++
	r.statsMu.Unlock()
	if request {
		r.requestDue(t)
	}
}

// requestNow is requestDue with no least interval: for a request that
// cannot wait (a stalled pipe reader to restart from a fresh picture).
func (r *Recorder) requestNow(t *track) bool { return r.request(t, true) }

// requestDue asks for a keyframe of t if a request is due now.
func (r *Recorder) requestDue(t *track) bool { return r.request(t, false) }

// request notes a keyframe request of t to make after the lock, if one
// may be made now (at once when urgent, else at most every
// keyFrameInterval), counts it, and reports whether it did.
func (r *Recorder) request(t *track, urgent bool) bool {
	now := r.now()
	// Once closing, a keyframe could not be used any more.
	if t.reqKey == nil || r.closed || !(urgent || t.lastReq.IsZero() || now.Sub(t.lastReq) >= keyFrameInterval) {
		return false
	}
	r.statsMu.Lock()
	r.stats.Tracks[t.i].KeyFrameRequests++
	r.statsMu.Unlock()
	t.lastReq = now
	t.wantKey = true
	return true
}

// Close writes the frames still in the reorder buffer that are complete,
// finalizes the container as New describes and returns the first error
// met writing w. After such an error (a full disk) a seekable w is cut
// back to the end of its last whole frame, which it then plays up to
// (WebM without Cues), and Stats().FramesWritten and BytesWritten count
// only what w holds whole. If no keyframe ever arrived, nothing at all was written to
// w (an empty file), and Close returns nil; Stats().FramesWritten tells.
//
// Close does not close w. It waits for a WriteRTP in progress, may be
// called more than once (later calls return the first result), and makes
// later WriteRTP calls return ErrClosed.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.closed = true
	for _, t := range r.tracks {
		r.drain(t, true)
	}
	if r.inter != nil {
		r.release(true)
	}
	if r.queue != nil {
		r.queue.close()
	}
	if r.mux != nil {
		if err := r.mux.finish(); err != nil {
			r.out.fail(err)
		}
	}
	n, err := r.out.state()
	r.statsMu.Lock()
	r.stats.BytesWritten = n
	r.statsMu.Unlock()
	if err != nil {
		r.err = fmt.Errorf("record: write output: %w", err)
		r.salvage()
	}
	return r.err
}

// salvage runs in Close after a write failed (a full disk): a seekable
// output is cut back to the end of its last whole frame and finalized as
// far as it can be, so it plays to that frame; the counts then say what
// the output holds whole, on a stream too.
func (r *Recorder) salvage() {
	good, frames, lastPTS := r.out.whole()
	if r.seeker != nil {
		switch err := r.seeker.cut(good); {
		case err != nil:
			r.log.Debug("record: cannot cut the output back to its whole frames", "err", err)
		case r.mux != nil:
			if err := r.mux.repair(frames, lastPTS); err != nil {
				r.log.Debug("record: cannot finalize the cut output", "err", err)
			}
		}
	}
	r.statsMu.Lock()
	r.stats.BytesWritten = good
	if len(r.tracks) == 1 {
		r.stats.Tracks[0].FramesWritten = frames
	} else {
		// Which track the frames cut off belonged to is not kept: the
		// total is true, the main track takes the difference.
		var others uint64
		for i := range r.stats.Tracks {
			if i != r.main.i {
				others += r.stats.Tracks[i].FramesWritten
			}
		}
		if frames >= others {
			r.stats.Tracks[r.main.i].FramesWritten = frames - others
		}
		r.cutTotal = frames
	}
	r.statsMu.Unlock()
}

// Stats returns a snapshot of the counters. It does not wait for a
// WriteRTP in progress.
func (r *Recorder) Stats() Stats {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	st := Stats{BytesWritten: r.stats.BytesWritten, Tracks: append([]TrackStats(nil), r.stats.Tracks...)}
	tot := &st.TrackStats
	for i, t := range st.Tracks {
		tot.PacketsReceived += t.PacketsReceived
		tot.PacketsLost += t.PacketsLost
		tot.FramesWritten += t.FramesWritten
		tot.KeyFrames += t.KeyFrames
		tot.FramesDropped += t.FramesDropped
		tot.FramesBehind += t.FramesBehind
		tot.KeyFrameRequests += t.KeyFrameRequests
		if !t.FirstFrame.IsZero() && (tot.FirstFrame.IsZero() || t.FirstFrame.Before(tot.FirstFrame)) {
			tot.FirstFrame = t.FirstFrame
		}
		tot.Duration = max(tot.Duration, t.Duration)
		if i == r.main.i {
			tot.Width, tot.Height = t.Width, t.Height
			tot.LongestFreeze, tot.Freezes, tot.FrozenTime = t.LongestFreeze, t.Freezes, t.FrozenTime
		}
	}
	if r.cutTotal > 0 {
		tot.FramesWritten = min(tot.FramesWritten, r.cutTotal)
	}
	return st
}
