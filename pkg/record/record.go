// Package record is the last stage of p2pcam's receive pipeline: it turns
// the RTP packets of a remote VP8 track into a playable WebM or IVF file or
// stream on any io.Writer.
//
// A Recorder reorders packets and rebuilds whole VP8 frames (RFC 7741),
// writing each the moment its last missing packet is in (see assembler),
// writes nothing until the first complete keyframe, and takes frame times
// from the RTP timestamps. It knows nothing about
// peer connections: pkg/peer (or a test) feeds it packets and passes a
// RequestKeyFrame callback that sends a PLI (RFC 4585 section 6.3.1).
package record

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// ErrClosed is returned by WriteRTP after Close.
var ErrClosed = errors.New("recorder closed")

// Defaults used for zero fields of Options.
const (
	DefaultClockRate = 90000                  // VP8's RTP clock rate, RFC 7741 section 6.1
	DefaultMaxLate   = 1024                   // packets
	DefaultMaxDelay  = 500 * time.Millisecond // how long a missing packet is awaited
)

// keyFrameInterval is the least time between two RequestKeyFrame calls.
const keyFrameInterval = 500 * time.Millisecond

// Options configure a Recorder. The zero value records WebM at 90 kHz.
type Options struct {
	// Format is the container written to w.
	Format Format
	// Logger receives debug and info records; nil discards them.
	Logger *slog.Logger
	// RequestKeyFrame, if not nil, is called while the recorder waits for
	// a keyframe (at the start, or after a lost frame), at most once every
	// 500 ms. It is called from WriteRTP's goroutine with no lock held and
	// must not block; sending a PLI is the intended use.
	RequestKeyFrame func()
	// OnFrame, if not nil, sees every frame written, right after it is
	// written, on WriteRTP's goroutine and within the WriteRTP call that
	// completed the frame (see WriteRTP): the VP8 frame, whether it is a
	// keyframe, and its RTP timestamp. data is only valid during the call.
	// The --measure mode decodes frames here.
	OnFrame func(data []byte, keyFrame bool, rtpTimestamp uint32)
	// ClockRate is the RTP clock rate of the track; 0 means 90000.
	ClockRate uint32
	// MaxLate is the reorder window in packets: a missing packet is given
	// up once this many later ones arrived. It must exceed the packets of
	// the largest frame (a 720p keyframe is about 100); 0 means 1024.
	MaxLate uint16
	// MaxDelay bounds how long a missing packet is waited for, counted on
	// the wall clock from the arrival of the first packet after it (when
	// the NACK generator notices the gap too); then the frames behind it
	// are released and the recorder waits for a keyframe. 0 means 500 ms.
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
	// frames go to w through a short queue (8 frames, 200 ms) on a
	// goroutine of the Recorder's own, so WriteRTP never waits for w, and
	// when w's reader falls behind (the queue is full, or one write took
	// over 200 ms) the queue is emptied up to a keyframe (asking for
	// one) and the frames after it are moved back in time to
	// close the hole, so the reader gets the live picture instead of a
	// backlog, and a decodable stream with strictly increasing times
	// (Stats.FramesBehind counts the frames so dropped). Without Live
	// every frame is written, and WriteRTP blocks while w blocks.
	//
	// On Linux, when w is an *os.File on a pipe, Live also shrinks the
	// pipe's buffer to one page (F_SETPIPE_SZ): video waiting in a 64 KiB
	// pipe buffer would reach a late reader stale, and a player that
	// plays by the stream's clock stays behind by as much.
	Live bool
}

// Stats are a Recorder's counters since New.
type Stats struct {
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
	// frames with packets lost (start, middle or end), malformed ones.
	// Frames none of whose packets arrived show up in PacketsLost only.
	FramesDropped uint64
	// FramesBehind counts the frames not written because the output's
	// reader was behind (Options.Live), keyframes included; they are not
	// in FramesWritten or KeyFrames.
	FramesBehind     uint64
	KeyFrameRequests uint64 // RequestKeyFrame calls
	// BytesWritten is what w accepted, container overhead included.
	BytesWritten int64
	// Width and Height come from the latest keyframe written; 0 before.
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

// Recorder writes a VP8 RTP stream to an io.Writer. Its methods are safe
// for concurrent use; WriteRTP calls are meant to come from one goroutine
// reading the track.
//
// When a frame is lost (its packets did not all arrive in time) the
// Recorder writes nothing until the next keyframe, calling RequestKeyFrame
// meanwhile, so every frame in the output decodes cleanly; the recording
// freezes instead of smearing. If a keyframe changes the frame size, IVF
// just carries on (decoders follow the keyframe header); WebM keeps the
// first size in its track header and goes on writing frames of the new
// size, which ffmpeg and browsers play at the new size.
type Recorder struct {
	mu     sync.Mutex // guards everything below but stats
	closed bool
	err    error // Close's result, returned again by later calls

	format   Format
	log      *slog.Logger
	reqKey   func()
	onFrame  func([]byte, bool, uint32)
	maxLate  uint16
	maxDelay time.Duration
	rtt      func() time.Duration
	now      func() time.Time // time.Now; tests put a fake clock here

	out    *output
	seeker *seekOutput
	mux    muxer // nil until the first keyframe; the queue's own when live
	live   bool
	queue  *liveQueue // frames on their way to mux, when live
	// started: the first keyframe was taken and the muxer started (or,
	// when live, handed to the queue to start).
	started bool

	asm *assembler

	seq sequence // sequence numbers and losses of the current SSRC

	// Frame state.
	waitKey bool           // drop delta frames until a keyframe
	lastReq time.Time      // last RequestKeyFrame
	times   timeline       // frame times from RTP timestamps
	gaps    freezeDetector // Stats.Freezes

	statsMu sync.Mutex
	stats   Stats
}

// New returns a Recorder writing opts.Format to w. Nothing is written
// until the first keyframe, whose header gives the frame size.
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
	r := &Recorder{
		format:   opts.Format,
		log:      opts.Logger,
		onFrame:  opts.OnFrame,
		reqKey:   opts.RequestKeyFrame,
		maxLate:  opts.MaxLate,
		maxDelay: opts.MaxDelay,
		rtt:      opts.RTT,
		live:     opts.Live,
		now:      time.Now,
		waitKey:  true,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.times.clock = int64(opts.ClockRate)
	if r.times.clock == 0 {
		r.times.clock = DefaultClockRate
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
	r.asm = newAssembler(r.maxLate, r.wait)
	r.asm.now = func() time.Time { return r.now() }
	return r, nil
}

// wait is how long the assembler waits for a missing packet now.
func (r *Recorder) wait() time.Duration {
	if r.rtt == nil {
		return r.maxDelay
	}
	return waitFor(r.rtt(), r.maxDelay)
}

// WriteRTP adds one packet of the track. It does not keep p: the payload
// is copied. A frame is written (and OnFrame called) within the WriteRTP
// call that completes it: the one carrying its last missing packet, not
// the next frame's first one. Frames stuck behind a missing packet are
// written by the first WriteRTP after the wait for it ran out (see
// Options.MaxDelay), or by Close.
//
// It returns ErrClosed after Close, and the first error writing w (wrapped);
// after a write error the recording is broken and the caller should stop.
// Lost, late, duplicate and malformed packets are not errors: they are
// counted in Stats. WriteRTP blocks while w blocks, unless Options.Live.
func (r *Recorder) WriteRTP(p *rtp.Packet) error {
	if p == nil {
		return errors.New("record: nil packet")
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	request := r.push(p)
	_, err := r.out.state()
	r.mu.Unlock()
	if request && r.reqKey != nil {
		r.reqKey()
	}
	if err != nil {
		return fmt.Errorf("record: write output: %w", err)
	}
	return nil
}

// push runs with mu held and reports whether to request a keyframe.
func (r *Recorder) push(p *rtp.Packet) (request bool) {
	defer r.countPacket()

	if r.seq.started && p.SSRC != r.seq.ssrc {
		r.log.Info("record: new RTP source, waiting for a keyframe",
			"old_ssrc", r.seq.ssrc, "ssrc", p.SSRC)
		request = r.resync()
	}
	if !r.seq.started {
		r.seq.restart(p.SSRC, p.SequenceNumber)
	}

	seq := r.seq.extend(p.SequenceNumber)
	switch {
	case seq > r.seq.highest+int64(r.maxLate):
		// A jump past the reorder window: a long outage or a restarted
		// sender. The buffered frames cannot be completed any more.
		r.log.Debug("record: sequence number jump", "from", r.seq.highest, "to", seq)
		request = r.resync() || request
		r.seq.restart(p.SSRC, p.SequenceNumber)
		seq = r.seq.first
	case seq < r.seq.highest-int64(r.maxLate):
		// Too late to use. Many in a row mean the sequence restarted
		// behind us; a later packet then resynchronizes.
		if r.seq.late() {
			request = r.resync() || request
		}
		return request
	}
	r.seq.add(seq)

	if len(p.Payload) == 0 {
		// Padding only (RFC 3550 section 5.1): no media, but its
		// sequence number is not a loss either.
		r.asm.push(seq, p.Timestamp, p.Marker, nil)
	} else {
		r.asm.push(seq, p.Timestamp, p.Marker, p.Payload)
	}
	return r.drain(false) || request
}

// countPacket updates the packet counters after push.
func (r *Recorder) countPacket() {
	lost := r.seq.lost()
	r.statsMu.Lock()
	r.stats.PacketsReceived++
	r.stats.PacketsLost = uint64(lost) // #nosec G115: non-negative
	r.statsMu.Unlock()
}

// resync flushes the assembler and starts it afresh, as after an SSRC
// change or a jump in sequence numbers; the next frame written must be a
// keyframe. The next packet starts a new sequence.
func (r *Recorder) resync() (request bool) {
	request = r.drain(true)
	r.seq.end()
	r.asm.reset()
	r.waitKey = true
	r.times.newSource()
	return request
}

// drain takes every released frame out of the assembler; with flush, it
// gives up on missing packets to empty it.
func (r *Recorder) drain(flush bool) (request bool) {
	for {
		f, ok := r.asm.pop(flush)
		if !ok {
			return request
		}
		if r.frame(&f) {
			request = true
		}
	}
}

// frame handles one frame from the assembler and reports whether to
// request a keyframe.
func (r *Recorder) frame(f *frame) (request bool) {
	if f.gap || !f.complete {
		if !r.waitKey {
			r.log.Debug("record: frame lost, waiting for a keyframe", "seq", f.first)
		}
		r.waitKey = true
	}
	if !f.complete {
		return r.drop()
	}
	key := isKeyFrame(f.data)
	if r.waitKey && !key {
		return r.drop()
	}
	var width, height int
	if key {
		var err error
		if width, height, err = parseKeyFrameHeader(f.data); err != nil {
			r.log.Debug("record: bad keyframe", "err", err)
			r.waitKey = true
			return r.drop()
		}
	}

	ts := r.times.unwrap(f.ts, r.started, r.now)
	if !r.started {
		if r.live {
			// The queue's goroutine writes the header too: nothing
			// on this one waits for w.
			r.queue = newLiveQueue(func() (muxer, error) {
				err := r.start(width, height)
				return r.mux, err
			}, r.out)
		} else if err := r.start(width, height); err != nil {
			r.out.fail(err)
			return false
		}
		r.started = true
		r.times.start(ts)
	}
	pts := r.times.pts(ts)
	r.waitKey = false
	if r.queue != nil {
		queued, dropped, keys, now := r.queue.put(key, r.times.ms(pts), f.data)
		if !queued {
			dropped++
		}
		if dropped > 0 {
			r.statsMu.Lock()
			r.stats.FramesBehind += uint64(dropped)                  // #nosec G115: positive
			r.stats.FramesWritten -= uint64(dropped - btoi(!queued)) // #nosec G115: queued frames counted before
			r.stats.KeyFrames -= uint64(keys)                        // #nosec G115: positive
			r.statsMu.Unlock()
		}
		if !queued {
			// The viewer and the meter see every frame all the same.
			if r.onFrame != nil {
				r.onFrame(f.data, key, f.ts)
			}
			return r.requestDue() || (now && r.requestNow())
		}
		if dropped > 0 && !key {
			request = r.requestDue() || (now && r.requestNow())
		}
	} else if err := r.mux.writeFrame(key, r.times.ms(pts), f.data); err != nil {
		r.out.fail(err)
		return false
	}
	if r.onFrame != nil {
		r.onFrame(f.data, key, f.ts)
	}

	n, _ := r.out.state()
	now := r.now()
	freeze, frozen := r.gaps.add(now)
	r.statsMu.Lock()
	st := &r.stats
	if st.FramesWritten == 0 {
		st.FirstFrame = now
	} else if d := r.times.ticks(pts - r.times.lastPTS); d > st.LongestFreeze {
		st.LongestFreeze = d
	}
	if freeze {
		st.Freezes++
		st.FrozenTime += frozen
	}
	st.FramesWritten++
	if key {
		st.KeyFrames++
		if st.Width != 0 && (width != st.Width || height != st.Height) {
			r.log.Info("record: frame size changed",
				"from", fmt.Sprintf("%dx%d", st.Width, st.Height),
				"to", fmt.Sprintf("%dx%d", width, height))
		}
		st.Width, st.Height = width, height
	}
	st.BytesWritten = n
	st.Duration = r.times.ticks(pts)
	r.statsMu.Unlock()
	r.times.written(pts, now)
	return request
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// start creates the muxer for the first keyframe's size.
func (r *Recorder) start(width, height int) error {
	// Assign r.mux only on success: a nil *webmMuxer in the interface
	// would not be nil, and Close would finish it.
	var (
		mux muxer
		err error
	)
	switch r.format {
	case FormatIVF:
		var m *ivfMuxer
		if m, err = newIVFMuxer(r.out, r.seeker, width, height); err == nil {
			mux = m
		}
	default:
		var m *webmMuxer
		if m, err = newWebMMuxer(r.out, r.seeker, width, height); err == nil {
			mux = m
		}
	}
	if err == nil {
		r.mux = mux
		r.log.Debug("record: first keyframe", "format", r.format,
			"width", width, "height", height, "seekable", r.seeker != nil)
	}
	return err
}

// drop counts a frame not written and reports whether a keyframe request
// is due.
func (r *Recorder) drop() bool {
	r.statsMu.Lock()
	r.stats.FramesDropped++
	r.statsMu.Unlock()
	return r.requestDue()
}

// requestNow is requestDue with no least interval: for a request that
// cannot wait (a stalled pipe reader to restart from a fresh picture).
func (r *Recorder) requestNow() bool { return r.request(true) }

// requestDue reports whether a keyframe request is due now, and counts it.
func (r *Recorder) requestDue() bool { return r.request(false) }

// request reports whether a keyframe request may be made now (at once
// when urgent, else at most every keyFrameInterval), and counts it.
func (r *Recorder) request(urgent bool) bool {
	now := r.now()
	// Once closing, a keyframe could not be used any more.
	if r.reqKey == nil || r.closed || !(urgent || r.lastReq.IsZero() || now.Sub(r.lastReq) >= keyFrameInterval) {
		return false
	}
	r.statsMu.Lock()
	r.stats.KeyFrameRequests++
	r.statsMu.Unlock()
	r.lastReq = now
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
	r.drain(true)
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
	r.stats.FramesWritten = frames
	r.stats.BytesWritten = good
	r.statsMu.Unlock()
}

// Stats returns a snapshot of the counters. It does not wait for a
// WriteRTP in progress.
func (r *Recorder) Stats() Stats {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	return r.stats
}
