// Package measure judges received video against p2pcam's synthetic test
// pattern, at the end of the pipeline: it decodes each frame the receiver
// writes (with the decoder of the codec it is given, package decode), reads the sequence number and capture time the sender stamped
// into the picture (package pattern), and derives glass-to-glass latency,
// lost and frozen frames, and picture quality (PSNR against the frame the
// sender must have painted). No side channel is involved: what is measured
// is exactly what a viewer would see, minus the display.
//
// Latency compares the stamp with this machine's clock, so both peers must
// share a clock: run them on one machine (loopback, namespaces) or on
// machines synchronized well below the latencies of interest.
//
// The sound, when the sender's is the test beep (a tone from each whole
// second of the clock that stamps the pattern), is measured the same way
// (AudioFrame): its delay from capture to decode, and its offset from the
// picture at the decoders (see sound.go).
package measure

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/p2pcam/p2pcam/internal/pct"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/decode"
	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// ErrNoDecoder means this build has no decoder for the codec (it was
// built without cgo): --measure needs one. It is decode.ErrNoDecoder and
// wraps codec.ErrUnavailable.
var ErrNoDecoder = decode.ErrNoDecoder

// Defaults for zero Options fields.
const (
	DefaultPSNREvery = 10
	DefaultWindow    = 150
)

// Options tune a Meter. Codec is required; the other zero values are
// ready to use.
type Options struct {
	// Codec is the video codec of the frames measured.
	Codec codec.Descriptor
	// Now is the clock read right after each frame is decoded; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives a debug record for each decode error and the first
	// unreadable stamp; nil discards them.
	Logger *slog.Logger
	// PSNREvery compares one frame in this many with the reference: the
	// first frame with a readable stamp and every PSNREvery-th after it.
	// 0 means DefaultPSNREvery (10), a negative value never compares.
	// Repainting and comparing costs about half a decode, so doing it for
	// every frame at 1080p30 would take a good part of a core here (see
	// BenchmarkFrame).
	PSNREvery int
	// Window is how many of the latest frames with a readable stamp
	// Recent's latency and PSNR figures cover; 0 means DefaultWindow (150,
	// five seconds at 30 fps).
	Window int
	// Audio, when set, is the codec of the sound AudioFrame measures; a
	// build that cannot decode it measures no sound (Logger says so).
	Audio codec.Descriptor
}

// soundWindow is how many of the latest beeps (one a second) Recent's
// sound figures cover.
const soundWindow = 5

// Figures are what a Meter measured. The counters and Frozen always cover
// the whole call; the latency and PSNR figures cover the frames Total or
// Recent says.
type Figures struct {
	// Frames counts frames decoded with a readable stamp.
	Frames uint64
	// Lost counts frames the sender stamped that were never decoded here:
	// the gaps in the stamped sequence numbers from the first frame
	// measured on (what was lost before it is unknown). Frames the sender's
	// encoder skipped (rate control) count too, as does everything
	// discarded while waiting for a keyframe after a decode error.
	Lost uint64
	// Unreadable counts decoded frames whose stamp failed its check (a
	// source other than the test pattern, or a badly damaged picture).
	Unreadable uint64
	// DecodeErrs counts frames the decoder refused. After one, frames are
	// skipped until the next keyframe; those are not counted here.
	DecodeErrs uint64
	// LatencyP50, LatencyP95 and LatencyMax are glass-to-glass latencies:
	// the local clock right after a frame was decoded minus the capture
	// time in its stamp, to the millisecond the stamp resolves. The stamp
	// holds milliseconds modulo 2^32 and is compared with the local clock
	// modulo 2^32, so the wrap every 49.7 days does not matter. A latency
	// below zero (clocks that disagree) counts as zero. All zero when no
	// stamp was read.
	LatencyP50, LatencyP95, LatencyMax time.Duration
	// Frozen is the total time the picture stood still when it should have
	// moved. Between two consecutive frames that carry a newer sequence
	// number (readable stamps, decoded at local times t0 < t1), the gap
	// t1-t0 is a freeze when it exceeds max(3T, T+150 ms), T being the
	// sender's frame interval as estimated before t1 from the stamps (a
	// moving average, weight 1/8, of capture-time differences per sequence
	// step; 1/30 s until two stamps were read). This is WebRTC's freeze
	// rule (webrtc-stats, freezeCount); the whole gap counts, not just the
	// excess. Frames dropped before decoding thus show up as a freeze
	// when they leave a long enough gap.
	Frozen time.Duration
	// PSNR is the mean luma (Y plane only) PSNR in dB of the compared
	// frames against the pattern frame their stamp names, repainted at the
	// decoded size: 10*log10(255²/MSE), capped at 99 dB (identical
	// pictures). 0 when no frame was compared.
	PSNR float64

	// The sound (Options.Audio), when it is the test beep. Beeps counts
	// the beep onsets found in the decoded sound (one a second).
	// AudioDelayP50 and AudioDelayMax are their delays from capture to
	// decode: the local clock right after the frame holding the onset was
	// decoded minus the whole second the beep starts at, read from -100
	// to 900 ms (the Opus decoder's look-ahead, 6.5 ms, is part of it). AVOffsetP50
	// is the median offset of sound and picture at the decoders, over the
	// AVOffsets seconds both placed: when the beep's onset was decoded
	// minus when the video's frames say the second was (the first frame
	// stamped at or after it, decoded at t and captured s after the
	// second, puts it at t-s); positive means the sound is late. Zero when
	// nothing was measured.
	Beeps                        uint64
	AudioDelayP50, AudioDelayMax time.Duration
	AVOffsetP50                  time.Duration
	AVOffsets                    uint64
}

// histMax is the highest latency in ms Total's percentiles resolve;
// higher ones count as this much (LatencyMax stays exact). It bounds the
// histogram at 480 KB even when the clocks disagree by days.
const histMax = 60_000

// sample is one measured frame in the Recent window.
type sample struct {
	latency float32 // ms
	psnr    float32 // dB, NaN when the frame was not compared
}

// Meter measures frames as they are written. Frame is called from one
// goroutine at a time, and so is AudioFrame (the two may run
// concurrently); Total and Recent may be called from any goroutine at any
// time, also concurrently with Frame and AudioFrame.
type Meter struct {
	opts   Options
	log    *slog.Logger
	dec    decode.Decoder
	adec   codec.AudioDecoder // nil: no sound measured
	aclock int64              // its RTP clock rate

	// Used by Frame only.
	ref        *image.YCbCr
	waitKey    bool
	haveSeq    bool
	seq        int64  // unwrapped sequence number of the last frame
	millis     uint32 // its capture time
	lastAt     time.Time
	interval   time.Duration // sender's frame interval, from the stamps
	haveIv     bool
	readable   int
	warnedRead bool

	mu      sync.Mutex // guards the rest
	total   Figures
	hist    []uint64 // whole call: frames per latency in ms, index = ms
	maxLat  int32    // whole call's highest latency, ms
	window  []sample // ring of the last Window samples
	next    int
	psnrSum float64
	psnrN   uint64
	sound   soundState
}

// New returns a Meter with its own decoder of opts.Codec; Close it when
// done. It fails with an error wrapping ErrNoDecoder when this build
// cannot decode the codec.
func New(opts Options) (*Meter, error) {
	if opts.Codec.MimeType == "" {
		return nil, errors.New("measure: no codec given")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PSNREvery == 0 {
		opts.PSNREvery = DefaultPSNREvery
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dec, err := decode.New(opts.Codec)
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	m := &Meter{opts: opts, log: log, dec: dec, interval: time.Second / 30}
	if a := opts.Audio; a.NewAudioDecoder != nil {
		adec, err := a.NewAudioDecoder()
		if err != nil {
			log.Debug("measure: cannot decode the sound; measuring the video alone", "codec", a.Name, "err", err)
		} else {
			m.adec, m.aclock = adec, int64(a.ClockRate)
		}
	}
	return m, nil
}

// Frame decodes one received frame and measures it. Frames must come
// complete and in stream order, as they are written to the recording;
// keyFrame says whether data is a keyframe. Any input is safe: what the
// decoder refuses counts as a decode error, after which frames are ignored until
// the next keyframe. Frame does nothing after Close. data is not retained.
func (m *Meter) Frame(data []byte, keyFrame bool) {
	if m.waitKey && !keyFrame {
		return
	}
	img, err := m.dec.Decode(data)
	now := m.opts.Now()
	switch {
	case errors.Is(err, decode.ErrSkip):
		return
	case err != nil:
		m.log.Debug("measure: cannot decode a frame; waiting for a keyframe", "bytes", len(data), "key", keyFrame, "err", err)
		m.waitKey = true
		m.mu.Lock()
		m.total.DecodeErrs++
		m.mu.Unlock()
		return
	}
	m.waitKey = false

	st, ok := pattern.Read(img)
	if !ok {
		if !m.warnedRead {
			m.warnedRead = true
			m.log.Debug("measure: a decoded frame carries no readable stamp; is the sender's source the test pattern?",
				"width", img.Rect.Dx(), "height", img.Rect.Dy())
		}
		m.mu.Lock()
		m.total.Unreadable++
		m.mu.Unlock()
		return
	}
	// Both sides modulo 2^32 ms; the difference as a signed number
	// survives the wrap.
	lat := max(int32(uint32(now.UnixMilli())-st.Millis), 0) // #nosec G115 -- modular on purpose

	var lost uint64
	var frozen time.Duration
	seq := int64(st.Seq)
	if m.haveSeq {
		d := int64(int16(st.Seq - uint16(m.seq))) // #nosec G115 -- wraps on purpose
		seq = m.seq + d
		if d > 0 {
			m.videoSecond(st, m.millis, now)
			lost = uint64(d - 1)
			if gap := now.Sub(m.lastAt); gap > max(3*m.interval, m.interval+150*time.Millisecond) {
				frozen = gap
			}
			if iv := time.Duration(int32(st.Millis-m.millis)) * time.Millisecond / time.Duration(d); iv > 0 { // #nosec G115
				if m.haveIv {
					m.interval = (7*m.interval + iv) / 8
				} else {
					m.interval, m.haveIv = iv, true
				}
			}
		}
	}
	if !m.haveSeq || seq != m.seq {
		// A repeated sequence number is the same picture: the freeze,
		// if any, goes on.
		m.lastAt = now
	}
	m.haveSeq, m.seq, m.millis = true, seq, st.Millis

	psnr := float32(math.NaN())
	if m.opts.PSNREvery > 0 && m.readable%m.opts.PSNREvery == 0 {
		psnr = float32(m.psnr(img, int(seq), st.Millis))
	}
	m.readable++

	m.mu.Lock()
	defer m.mu.Unlock()
	m.total.Frames++
	m.total.Lost += lost
	m.total.Frozen += frozen
	m.maxLat = max(m.maxLat, lat)
	b := min(int(lat), histMax)
	if b >= len(m.hist) {
		m.hist = append(m.hist, make([]uint64, b+1-len(m.hist))...)
	}
	m.hist[b]++
	s := sample{latency: float32(lat), psnr: psnr}
	if len(m.window) < m.opts.Window {
		m.window = append(m.window, s)
	} else {
		m.window[m.next] = s
		m.next = (m.next + 1) % m.opts.Window
	}
	if !math.IsNaN(float64(psnr)) {
		m.psnrSum += float64(psnr)
		m.psnrN++
	}
}

// psnr compares img's luma with pattern frame seq stamped at millis,
// repainted at img's size. seq is the unwrapped sequence number, which
// equals the sender's frame counter as long as the first frame measured
// was stamped before that counter first wrapped (36 minutes at 30 fps);
// the bouncing box, unlike the stamp, does not repeat every 65536 frames.
func (m *Meter) psnr(img *image.YCbCr, seq int, millis uint32) float64 {
	r := img.Rect
	if m.ref == nil || m.ref.Rect != r {
		m.ref = image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	}
	pattern.Paint(m.ref, seq, time.UnixMilli(int64(millis)))
	return lumaPSNR(img, m.ref)
}

// lumaPSNR is the PSNR of a's Y plane against b's, which must be the same
// size; 99 when they are identical.
func lumaPSNR(a, b *image.YCbCr) float64 {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var sum uint64
	for y := range h {
		ra := a.Y[y*a.YStride : y*a.YStride+w]
		rb := b.Y[y*b.YStride : y*b.YStride+w]
		for x, v := range ra {
			d := int(v) - int(rb[x])
			sum += uint64(d * d) // #nosec G115 -- a square
		}
	}
	if sum == 0 || w*h == 0 {
		return 99
	}
	mse := float64(sum) / float64(w*h)
	return min(99, 10*math.Log10(255*255/mse))
}

// Total returns the figures for the whole call so far: latency
// percentiles over every frame with a readable stamp (exact at the stamp's
// millisecond resolution up to 60 s; latencies beyond count as 60 s) and
// PSNR over every frame compared.
func (m *Meter) Total() Figures {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.total
	if m.psnrN > 0 {
		f.PSNR = m.psnrSum / float64(m.psnrN)
	}
	m.soundFigures(&f, 0)
	if f.Frames == 0 {
		return f
	}
	f.LatencyP50 = millis(pct.Bin(m.hist, pct.Rank(f.Frames, 50)))
	f.LatencyP95 = millis(pct.Bin(m.hist, pct.Rank(f.Frames, 95)))
	f.LatencyMax = millis(int(m.maxLat))
	return f
}

// Recent returns the figures with latency percentiles and PSNR over the
// last Window frames with a readable stamp (the PSNR of those among them
// that were compared), and the sound's over the last 5 beeps and
// offsets; the counters and Frozen are whole-call totals, as in Total.
func (m *Meter) Recent() Figures {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.total
	m.soundFigures(&f, soundWindow)
	if len(m.window) == 0 {
		return f
	}
	lat := make([]float32, 0, len(m.window))
	var sum float64
	var n int
	for _, s := range m.window {
		lat = append(lat, s.latency)
		if !math.IsNaN(float64(s.psnr)) {
			sum += float64(s.psnr)
			n++
		}
	}
	if n > 0 {
		f.PSNR = sum / float64(n)
	}
	slices.Sort(lat)
	k := uint64(len(lat))
	f.LatencyP50 = millis(int(lat[pct.Rank(k, 50)]))
	f.LatencyP95 = millis(int(lat[pct.Rank(k, 95)]))
	f.LatencyMax = millis(int(lat[k-1]))
	return f
}

func millis(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// Close frees the decoders. It is idempotent and safe to call while
// Frame or AudioFrame runs on another goroutine; they do nothing
// afterwards.
func (m *Meter) Close() error {
	err := m.dec.Close()
	if m.adec != nil {
		if aerr := m.adec.Close(); err == nil {
			err = aerr
		}
	}
	return err
}
