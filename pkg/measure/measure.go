// Package measure judges received video against p2pcam's synthetic test
// pattern, at the end of the pipeline: it decodes each frame the receiver
// writes, reads the sequence number and capture time the sender stamped
// into the picture (package pattern), and derives glass-to-glass latency,
// lost and frozen frames, and picture quality (PSNR against the frame the
// sender must have painted). No side channel is involved: what is measured
// is exactly what a viewer would see, minus the display.
//
// Latency compares the stamp with this machine's clock, so both peers must
// share a clock: run them on one machine (loopback, namespaces) or on
// machines synchronized well below the latencies of interest.
package measure

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/p2pcam/p2pcam/pkg/pattern"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// Options tune a Meter. The zero value is ready to use.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PSNREvery compares one frame in this many with the reference (0:
	// 10). Repainting and comparing costs about as much as decoding, so
	// every frame at 1080p30 would cost a good part of a core.
	PSNREvery int
	// Window is how many recent frames the windowed figures cover (0:
	// 150, five seconds at 30 fps).
	Window int
}

// Figures are what a Meter measured over some span of frames.
type Figures struct {
	Frames     uint64 // frames decoded with a readable stamp
	Lost       uint64 // frames the sender stamped that never showed up
	Unreadable uint64 // decoded frames whose stamp failed its check
	DecodeErrs uint64 // frames libvpx could not decode
	// LatencyP50, LatencyP95 and LatencyMax are capture-to-decoded
	// latencies, to the millisecond the stamp resolves.
	LatencyP50, LatencyP95, LatencyMax time.Duration
	// Frozen is the total time the picture stood still for longer than a
	// freeze: a gap between two decoded frames longer than max(3 frame
	// intervals, 1 interval + 150 ms), as WebRTC's freeze statistics
	// define it. The whole gap counts.
	Frozen time.Duration
	// PSNR is the mean luma PSNR in dB of the frames compared (identical
	// frames count as 99 dB); 0 when none was compared.
	PSNR float64
}

// maxSamples bounds the whole-call latency record (an hour at 30 fps
// is 108,000).
const maxSamples = 1 << 20

// Meter measures frames as they are written. Frame is called from one
// goroutine; the figures may be read from any.
type Meter struct {
	opts Options
	dec  *vp8.Decoder
	ref  *image.YCbCr

	mu       sync.Mutex
	total    Figures
	all      []float32 // every latency, ms
	recent   []float32 // ring of the last Window latencies, ms
	next     int
	psnrSum  float64
	psnrN    int
	waitKey  bool
	haveSeq  bool
	seq      int64  // unwrapped sequence number of the last frame
	millis   uint32 // its capture time
	lastAt   time.Time
	interval time.Duration // frame interval, from the stamps
	count    int
}

// New returns a Meter with its own VP8 decoder.
func New(opts Options) (*Meter, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PSNREvery <= 0 {
		opts.PSNREvery = 10
	}
	if opts.Window <= 0 {
		opts.Window = 150
	}
	dec, err := vp8.NewDecoder()
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	return &Meter{opts: opts, dec: dec, interval: time.Second / 30}, nil
}

// Frame decodes one received VP8 frame and measures it. Frames must come
// in order, as they are written.
func (m *Meter) Frame(data []byte, keyFrame bool) {
	if m.waitKey && !keyFrame {
		return
	}
	img, err := m.dec.Decode(data)
	if errors.Is(err, vp8.ErrNoFrame) {
		return
	}
	now := m.opts.Now()
	if err != nil {
		m.mu.Lock()
		m.total.DecodeErrs++
		m.mu.Unlock()
		m.waitKey = true
		return
	}
	m.waitKey = false
	st, ok := pattern.Read(img)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !ok {
		m.total.Unreadable++
		return
	}
	// Latency from the stamp's milliseconds, modulo 2^32 like the stamp.
	lat := float32(int32(uint32(now.UnixMilli()) - st.Millis))
	m.total.Frames++
	if len(m.all) < maxSamples {
		m.all = append(m.all, lat)
	}
	if len(m.recent) < m.opts.Window {
		m.recent = append(m.recent, lat)
	} else {
		m.recent[m.next] = lat
		m.next = (m.next + 1) % m.opts.Window
	}

	seq := int64(st.Seq)
	if m.haveSeq {
		seq = m.seq + int64(int16(st.Seq-uint16(m.seq))) // #nosec G115: wraps on purpose
		d := seq - m.seq
		if d > 1 {
			m.total.Lost += uint64(d - 1)
		}
		// Follow the sender's frame rate, smoothed.
		if iv := time.Duration(int32(st.Millis-m.millis)) * time.Millisecond; d > 0 && iv > 0 {
			m.interval = (9*m.interval + iv/time.Duration(d)) / 10
		}
		if gap := now.Sub(m.lastAt); gap > max(3*m.interval, m.interval+150*time.Millisecond) {
			m.total.Frozen += gap
		}
	}
	m.haveSeq, m.seq, m.millis, m.lastAt = true, seq, st.Millis, now

	m.count++
	if m.count%m.opts.PSNREvery == 1 || m.opts.PSNREvery == 1 {
		m.psnrSum += m.psnr(img, int(seq), st.Millis)
		m.psnrN++
	}
}

// psnr compares img's luma with the pattern frame seq stamped at millis.
func (m *Meter) psnr(img *image.YCbCr, seq int, millis uint32) float64 {
	r := img.Rect
	if m.ref == nil || m.ref.Rect != r {
		m.ref = image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	}
	pattern.Paint(m.ref, seq, time.UnixMilli(int64(millis)))
	var sum uint64
	w, h := r.Dx(), r.Dy()
	for y := range h {
		a := img.Y[y*img.YStride : y*img.YStride+w]
		b := m.ref.Y[y*m.ref.YStride : y*m.ref.YStride+w]
		for x := range a {
			d := int(a[x]) - int(b[x])
			sum += uint64(d * d)
		}
	}
	if sum == 0 {
		return 99
	}
	mse := float64(sum) / float64(w*h)
	return math.Min(99, 10*math.Log10(255*255/mse))
}

// Total returns the figures over every frame so far.
func (m *Meter) Total() Figures {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.figures(m.all)
}

// Recent returns the figures with latencies over the last Window frames;
// the counters are totals.
func (m *Meter) Recent() Figures {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.figures(m.recent)
}

func (m *Meter) figures(lat []float32) Figures {
	f := m.total
	if m.psnrN > 0 {
		f.PSNR = m.psnrSum / float64(m.psnrN)
	}
	if len(lat) == 0 {
		return f
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	ms := func(v float32) time.Duration { return time.Duration(v * float32(time.Millisecond)) }
	f.LatencyP50 = ms(s[len(s)/2])
	f.LatencyP95 = ms(s[min(len(s)-1, len(s)*95/100)])
	f.LatencyMax = ms(s[len(s)-1])
	return f
}

// Close frees the decoder. Frame must not be called after it.
func (m *Meter) Close() error { return m.dec.Close() }
