// Package record is the last stage of p2pcam's receive pipeline: it turns
// the RTP packets of a remote VP8 track into a playable WebM or IVF file or
// stream on any io.Writer.
//
// A Recorder reorders packets and rebuilds whole VP8 frames (RFC 7741)
// the moment their last packet is in (see assembler), writes nothing until the first complete keyframe,
// and takes frame times from the RTP timestamps. It knows nothing about
// peer connections: pkg/peer (or a test) feeds it packets and passes a
// RequestKeyFrame callback that sends a PLI (RFC 4585 section 6.3.1).
package record

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Format is a container for the recorded video.
type Format int

const (
	// FormatWebM is Matroska/WebM, the zero value. It plays from a pipe
	// (`p2pcam answer -o - | ffplay -`) and from a file, where it is also
	// seekable once the Recorder is closed.
	FormatWebM Format = iota
	// FormatIVF is the bare VP8 frame container of libvpx.
	FormatIVF
)

// String returns "webm", "ivf" or "Format(n)".
func (f Format) String() string {
	switch f {
	case FormatWebM:
		return "webm"
	case FormatIVF:
		return "ivf"
	default:
		return fmt.Sprintf("Format(%d)", int(f))
	}
}

var (
	// ErrUnsupportedFormat is returned by FormatForPath for an extension
	// other than .webm or .ivf, and by New for an unknown Format.
	ErrUnsupportedFormat = errors.New("unsupported output format")
	// ErrClosed is returned by WriteRTP after Close.
	ErrClosed = errors.New("recorder closed")
)

// FormatForPath picks the format from path's extension, ignoring case:
// ".webm" or ".ivf". Any other extension, or none, gives an error wrapping
// ErrUnsupportedFormat that names the supported ones. The stdout path "-"
// has no extension either: the caller chooses the format for it (WebM is
// the usual choice for a pipe).
func FormatForPath(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".webm":
		return FormatWebM, nil
	case ".ivf":
		return FormatIVF, nil
	case "":
		return 0, fmt.Errorf("%w: %q has no extension; use .webm or .ivf", ErrUnsupportedFormat, path)
	default:
		return 0, fmt.Errorf("%w: %q; use .webm or .ivf", ErrUnsupportedFormat, ext)
	}
}

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
	// written, on WriteRTP's goroutine: the VP8 frame, whether it is a
	// keyframe, and its RTP timestamp. data is only valid during the call.
	// The --measure mode decodes frames here.
	OnFrame func(data []byte, keyFrame bool, rtpTimestamp uint32)
	// ClockRate is the RTP clock rate of the track; 0 means 90000.
	ClockRate uint32
	// MaxLate is the reorder window in packets: a missing packet is given
	// up once this many later ones arrived. It must exceed the packets of
	// the largest frame (a 720p keyframe is about 100); 0 means 1024.
	MaxLate uint16
	// MaxDelay bounds, in RTP time, how long a missing packet is waited
	// for before the frames behind it are released; 0 means 500 ms.
	MaxDelay time.Duration
	// RTT, if not nil, returns the current round-trip time, or 0 while it
	// is unknown. A missing packet is then waited for only as long as a
	// retransmission could take (two round trips plus the NACK interval
	// and some slack, at least 120 ms, see waitFor), never beyond
	// MaxDelay: there is no point holding later frames back for a repair
	// that cannot come.
	RTT func() time.Duration
}

// nackInterval is how often the receiver's NACK generator asks for missing
// packets; pkg/peer configures the same.
const nackInterval = 20 * time.Millisecond

// waitFor is how long to wait for a missing packet given the round-trip
// time: a NACK goes out within nackInterval, the retransmission needs a
// round trip, and a second try another; 30 ms covers scheduling slack.
// It is never less than minWait, because on a busy machine the sender may
// take that long to answer even over loopback, and giving up costs a
// keyframe round trip anyway. Without a measurement, or capped, it is
// maxDelay.
func waitFor(rtt, maxDelay time.Duration) time.Duration {
	if rtt <= 0 {
		return maxDelay
	}
	return min(maxDelay, max(minWait, 2*rtt+nackInterval+30*time.Millisecond))
}

// minWait is the least time a missing packet is waited for.
const minWait = 120 * time.Millisecond

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
	// FramesDropped counts frames rebuilt but not written: delta frames
	// before the first keyframe or after a loss, incomplete or malformed
	// frames. Frames the reorder buffer never completed show up in
	// PacketsLost instead.
	FramesDropped    uint64
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
	// frames written.
	LongestFreeze time.Duration
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
	clock    int64
	maxLate  uint16
	maxDelay time.Duration
	rtt      func() time.Duration

	out    *output
	seeker *seekOutput
	mux    muxer // nil until the first keyframe

	asm *assembler

	// Sequence numbers, extended to 64 bits, of the current SSRC.
	ssrc       uint32
	haveSeq    bool
	firstSeq   int64
	highestSeq int64
	received   int64 // packets of this SSRC
	sawMarker  bool  // a frame-ending packet arrived since the last resync
	lostBase   int64 // PacketsLost of earlier SSRCs
	behind     int   // consecutive packets far behind highestSeq
	lastOut    int64 // last packet the assembler released
	haveOut    bool
	padding    [1 << 10]uint64 // bit per sequence number of padding-only packets

	// Frame state.
	waitKey bool      // drop delta frames until a keyframe
	lastReq time.Time // last RequestKeyFrame
	haveTS  bool
	lastTS  uint32 // last frame's RTP timestamp
	extTS   int64  // same, unwrapped
	rebase  bool   // timestamps restart after an SSRC change
	firstTS int64  // extTS of the first frame written
	lastPTS int64  // RTP ticks from the first frame to the last one written
	lastAt  time.Time

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
		clock:    int64(opts.ClockRate),
		maxLate:  opts.MaxLate,
		maxDelay: opts.MaxDelay,
		rtt:      opts.RTT,
		waitKey:  true,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.clock == 0 {
		r.clock = DefaultClockRate
	}
	if r.maxLate == 0 {
		r.maxLate = DefaultMaxLate
	}
	if r.maxDelay <= 0 {
		r.maxDelay = DefaultMaxDelay
	}
	r.out, r.seeker = newOutput(w)
	r.asm = r.newAssembler()
	return r, nil
}

func (r *Recorder) newAssembler() *assembler {
	a := newAssembler(r.maxLate, uint32(int64(r.maxDelay)*r.clock/int64(time.Second))) // #nosec G115: bounded by options
	if r.rtt != nil {
		a.delay = func() uint32 {
			return uint32(int64(waitFor(r.rtt(), r.maxDelay)) * r.clock / int64(time.Second)) // #nosec G115: bounded by maxDelay
		}
	}
	return a
}

// WriteRTP adds one packet of the track. It does not keep p: the packet is
// copied. Frames are written once complete, which for the newest frame
// means when a packet of the next one arrives (or at Close).
//
// It returns ErrClosed after Close, and the first error writing w (wrapped);
// after a write error the recording is broken and the caller should stop.
// Lost, late, duplicate and malformed packets are not errors: they are
// counted in Stats. WriteRTP blocks while w blocks.
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
	r.statsMu.Lock()
	r.stats.PacketsReceived++
	r.statsMu.Unlock()

	if r.haveSeq && p.SSRC != r.ssrc {
		r.log.Info("record: new RTP source, waiting for a keyframe",
			"old_ssrc", r.ssrc, "ssrc", p.SSRC)
		request = r.resync()
	}
	if !r.haveSeq {
		r.ssrc = p.SSRC
		r.haveSeq = true
		r.firstSeq = int64(p.SequenceNumber)
		r.highestSeq = r.firstSeq
		r.lastOut = r.firstSeq - 1
		r.received = 0
		clear(r.padding[:])
	}

	seq := r.highestSeq + int64(int16(p.SequenceNumber-uint16(r.highestSeq))) // #nosec G115: wraps on purpose
	switch {
	case seq > r.highestSeq+int64(r.maxLate):
		// A jump past the reorder window: a long outage or a restarted
		// sender. The buffered frames cannot be completed any more.
		r.log.Debug("record: sequence number jump", "from", r.highestSeq, "to", seq)
		request = r.resync() || request
		r.ssrc = p.SSRC
		r.haveSeq = true
		r.firstSeq = int64(p.SequenceNumber)
		r.highestSeq = r.firstSeq
		r.lastOut = r.firstSeq - 1
		r.received = 0
		seq = r.firstSeq
	case seq < r.highestSeq-int64(r.maxLate):
		// Too late to use. Many in a row mean the sequence restarted
		// behind us; a later packet then resynchronizes.
		r.behind++
		if r.behind >= 8 {
			r.behind = 0
			r.haveSeq = false
			request = r.resync() || request
		}
		r.received++
		r.updateLost()
		return request
	}
	r.behind = 0
	r.received++
	if seq > r.highestSeq {
		r.highestSeq = seq
	}
	if seq < r.firstSeq {
		r.firstSeq = seq
	}
	r.updateLost()
	if r.haveOut && seq <= r.lastOut {
		return request // duplicate, or its frame is already gone
	}

	if len(p.Payload) == 0 {
		// Padding only (RFC 3550 section 5.1): no media, but its
		// sequence number is not a loss either.
		r.padding[uint16(seq)/64] |= 1 << (uint16(seq) % 64)
		r.asm.push(seq, nil, true)
		return request
	}
	r.padding[uint16(seq)/64] &^= 1 << (uint16(seq) % 64)

	cp := &rtp.Packet{
		Header: rtp.Header{
			Version:        p.Version,
			Marker:         p.Marker,
			PayloadType:    p.PayloadType,
			SequenceNumber: p.SequenceNumber,
			Timestamp:      p.Timestamp,
			SSRC:           p.SSRC,
		},
		Payload: append([]byte(nil), p.Payload...),
	}
	r.asm.push(seq, cp, false)
	if p.Marker {
		r.sawMarker = true
	}
	if !r.haveOut && !r.sawMarker {
		// The assembler fixes where its output starts at its first
		// release; a packet older than that which arrives later is lost.
		// Hold off until the first frame's last packet (the marker, RFC
		// 7741 section 4.1) is in, so a first keyframe that arrived out
		// of order is still whole; waiting longer only delays the
		// picture.
		return request
	}
	return r.drain(false) || request
}

func (r *Recorder) updateLost() {
	lost := r.highestSeq - r.firstSeq + 1 - r.received
	if lost < 0 {
		lost = 0
	}
	r.statsMu.Lock()
	r.stats.PacketsLost = uint64(r.lostBase + lost) // #nosec G115: non-negative
	r.statsMu.Unlock()
}

// resync flushes the assembler and starts a new one, as after an SSRC
// change or a jump in sequence numbers; the next frame written must be a
// keyframe. It leaves haveSeq to the caller.
func (r *Recorder) resync() (request bool) {
	request = r.drain(true)
	lost := r.highestSeq - r.firstSeq + 1 - r.received
	if lost > 0 {
		r.lostBase += lost
	}
	r.asm = r.newAssembler()
	r.sawMarker = false
	r.haveSeq = false
	r.haveOut = false
	r.waitKey = true
	if r.haveTS {
		r.haveTS = false
		r.rebase = true
	}
	return request
}

// drain takes every finished frame out of the assembler; with flush, it
// gives up on missing packets to empty it.
func (r *Recorder) drain(flush bool) (request bool) {
	for {
		s := r.asm.pop(flush)
		if s == nil {
			return request
		}
		if r.frame(s) {
			request = true
		}
	}
}

// seqOf extends a sequence number the assembler released, which is
// never ahead of highestSeq.
func (r *Recorder) seqOf(seq uint16) int64 {
	return r.highestSeq - int64(uint16(r.highestSeq)-seq)
}

// lostBetween reports whether a packet between from and to (exclusive)
// went missing: any sequence number there that was not padding.
func (r *Recorder) lostBetween(from, to int64) bool {
	lost := false
	for s := from + 1; s < to; s++ {
		i := uint16(s)
		if r.padding[i/64]&(1<<(i%64)) == 0 {
			lost = true
		}
		r.padding[i/64] &^= 1 << (i % 64)
	}
	return lost
}

// frame handles one frame from the assembler and reports whether to
// request a keyframe.
func (r *Recorder) frame(s *media.Sample) (request bool) {
	if len(s.RTPHeaders) == 0 {
		return false
	}
	first := r.seqOf(s.RTPHeaders[0].SequenceNumber)
	last := r.seqOf(s.RTPHeaders[len(s.RTPHeaders)-1].SequenceNumber)
	if r.haveOut && first <= r.lastOut {
		return false // stale; push filters these out
	}
	gap := r.haveOut && r.lostBetween(r.lastOut, first)
	r.lastOut, r.haveOut = last, true

	// The assembler also cuts a frame at a timestamp change, so a frame
	// whose last packet (the one with the marker, RFC 7741 section 4.1)
	// was lost comes out truncated.
	complete := s.RTPHeaders[len(s.RTPHeaders)-1].Marker && len(s.Data) > 0
	if gap || !complete {
		if !r.waitKey {
			r.log.Debug("record: frame lost, waiting for a keyframe", "seq", first)
		}
		r.waitKey = true
	}
	if !complete {
		return r.drop()
	}
	key := isKeyFrame(s.Data)
	if r.waitKey && !key {
		return r.drop()
	}
	var width, height int
	if key {
		var err error
		if width, height, err = parseKeyFrameHeader(s.Data); err != nil {
			r.log.Debug("record: bad keyframe", "err", err)
			r.waitKey = true
			return r.drop()
		}
	}

	ts := r.unwrap(s.PacketTimestamp)
	if r.mux == nil {
		if err := r.start(width, height); err != nil {
			r.out.fail(err)
			return false
		}
		r.firstTS = ts
	}
	pts := ts - r.firstTS
	// Keep time strictly increasing at the containers' millisecond
	// resolution, whatever the sender does: frames sent in a burst can
	// carry timestamps less than a millisecond apart, and players reject
	// two frames at the same time.
	if r.stats.FramesWritten > 0 && pts*1000/r.clock <= r.lastPTS*1000/r.clock {
		pts = (r.lastPTS*1000/r.clock + 1) * r.clock / 1000
		for pts*1000/r.clock <= r.lastPTS*1000/r.clock {
			pts++
		}
	}
	ms := pts * 1000 / r.clock
	if err := r.mux.writeFrame(key, ms, s.Data); err != nil {
		r.out.fail(err)
		return false
	}
	r.waitKey = false
	if r.onFrame != nil {
		r.onFrame(s.Data, key, s.PacketTimestamp)
	}

	n, _ := r.out.state()
	now := time.Now()
	r.statsMu.Lock()
	st := &r.stats
	if st.FramesWritten == 0 {
		st.FirstFrame = now
	} else if d := r.ticks(pts - r.lastPTS); d > st.LongestFreeze {
		st.LongestFreeze = d
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
	st.Duration = r.ticks(pts)
	r.statsMu.Unlock()
	r.lastPTS = pts
	r.lastAt = now
	return false
}

// start creates the muxer for the first keyframe's size.
func (r *Recorder) start(width, height int) error {
	var err error
	switch r.format {
	case FormatIVF:
		r.mux, err = newIVFMuxer(r.out, r.seeker, width, height)
	default:
		r.mux, err = newWebMMuxer(r.out, r.seeker, width, height)
	}
	if err == nil {
		r.log.Debug("record: first keyframe", "format", r.format,
			"width", width, "height", height, "seekable", r.seeker != nil)
	}
	return err
}

// unwrap extends a frame's 32-bit RTP timestamp against the previous one.
// After an SSRC change the new timestamps are unrelated to the old ones:
// the next frame is placed after the last one by the wall-clock time that
// passed.
func (r *Recorder) unwrap(ts uint32) int64 {
	switch {
	case r.haveTS:
		r.extTS += int64(int32(ts - r.lastTS)) // #nosec G115: wraps on purpose
	case r.rebase && r.mux != nil:
		gap := time.Since(r.lastAt) * time.Duration(r.clock) / time.Second
		r.extTS = r.firstTS + r.lastPTS + max(int64(gap), 1)
		r.rebase = false
	default:
		r.extTS = int64(ts)
	}
	r.lastTS, r.haveTS = ts, true
	return r.extTS
}

func (r *Recorder) ticks(t int64) time.Duration {
	return time.Duration(t) * time.Second / time.Duration(r.clock)
}

// drop counts a frame not written and reports whether a keyframe request
// is due.
func (r *Recorder) drop() bool {
	now := time.Now()
	due := r.reqKey != nil && (r.lastReq.IsZero() || now.Sub(r.lastReq) >= keyFrameInterval)
	r.statsMu.Lock()
	r.stats.FramesDropped++
	if due {
		r.stats.KeyFrameRequests++
	}
	r.statsMu.Unlock()
	if due {
		r.lastReq = now
	}
	return due
}

// Close writes the frames still in the reorder buffer that are complete,
// finalizes the container as New describes and returns the first error
// met writing w. If no keyframe ever arrived, nothing at all was written to
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
	}
	return r.err
}

// Stats returns a snapshot of the counters. It does not wait for a
// WriteRTP in progress.
func (r *Recorder) Stats() Stats {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	return r.stats
}
