//go:build cgo

package vp8

import (
	"fmt"
	"image"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// maxDim is the largest frame side VP8 can code (14 bits).
const maxDim = 16383

// maxSlots bounds the pool of output buffers; beyond it Read allocates.
const maxSlots = 4

// clock returns monotonic time since an arbitrary origin.
type clock func() time.Duration

func wallClock() clock {
	start := time.Now()
	return func() time.Duration { return time.Since(start) }
}

// encoder is the codec.ReadCloser built by Params.BuildVideoEncoder.
type encoder struct {
	src    video.Reader
	params Params
	fps    float64
	now    clock
	ctrl   *controller

	mu      sync.Mutex // guards everything below, and the C context
	closed  bool
	c       *cEncoder
	kbps    int // bitrate the C context is configured with
	started bool
	t0      time.Duration // clock at the first frame
	lastPts int64
	slots   []*outSlot
	layerAt int // the next frame's place in layerPattern
}

// outSlot is a reusable output buffer; busy while the caller holds it.
type outSlot struct {
	buf     []byte
	busy    atomic.Bool
	release func()
}

// controller is the encoder's codec.EncoderController; it shares only
// atomics and its own lock with the encoding goroutine.
type controller struct {
	forceKey   atomic.Bool
	bitRate    atomic.Int64
	minBitRate int
	maxBitRate int

	mu    sync.Mutex
	stats Stats
}

func newEncoder(src video.Reader, p Params, m prop.Media, now clock) (*encoder, error) {
	p, err := p.normalized()
	if err != nil {
		return nil, err
	}
	fps := float64(m.FrameRate)
	if fps <= 0 || fps > 1000 {
		fps = 30
	}
	e := &encoder{
		src:    src,
		params: p,
		fps:    fps,
		now:    now,
		ctrl:   &controller{minBitRate: p.MinBitRate, maxBitRate: p.MaxBitRate},
	}
	e.ctrl.bitRate.Store(int64(p.BitRate))
	e.ctrl.stats.TargetBitRate = p.BitRate
	if m.Width > 0 || m.Height > 0 {
		if err := e.configure(m.Width, m.Height); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// configure (re)creates the C context for w x h. Called with mu held or
// before the encoder is shared.
func (e *encoder) configure(w, h int) error {
	if w <= 0 || h <= 0 || w > maxDim || h > maxDim {
		return fmt.Errorf("vp8: frame size %dx%d outside 1..%d: %w", w, h, maxDim, ErrBadFrame)
	}
	if e.c != nil {
		e.c.close()
		e.c = nil
	}
	// libwebrtc's cap on keyframe size: half the optimal buffer, in
	// percent of the per-frame budget, and never under 300%.
	intra := max(300, int(bufOptimalMS*0.5*e.fps/10))
	kbps := int(e.ctrl.bitRate.Load() / 1000)
	c, err := newCEncoder(encConfig{
		width: w, height: h,
		kbps:        kbps,
		threads:     e.params.Threads,
		cpuUsed:     e.params.CPUUsed,
		kfInterval:  e.params.KeyFrameInterval,
		maxIntraPct: intra,
		layers:      e.params.TemporalLayers,
	})
	if err != nil {
		return err
	}
	e.c, e.kbps, e.layerAt = c, kbps, 0 // a new context starts with a keyframe
	return nil
}

// Read encodes the next frame from the source. See Params.BuildVideoEncoder
// for the contract.
func (e *encoder) Read() ([]byte, func(), error) {
	for {
		img, release, err := e.src.Read()
		if err != nil {
			return nil, noop, err
		}
		t := e.now()
		b, rel, got, err := e.encode(img, t)
		if release != nil {
			release()
		}
		if err != nil || got {
			return b, rel, err
		}
	}
}

func noop() {}

// encode compresses one frame; got is false when libvpx dropped it.
func (e *encoder) encode(img image.Image, t time.Duration) (_ []byte, _ func(), got bool, _ error) {
	yuv, ok := img.(*image.YCbCr)
	if !ok || yuv.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, noop, false, fmt.Errorf("vp8: frame of type %T is not I420: %w", img, ErrBadFrame)
	}
	w, h := yuv.Rect.Dx(), yuv.Rect.Dy()
	if err := checkPlanes(yuv); err != nil {
		return nil, noop, false, err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, noop, false, io.EOF
	}
	if e.c == nil || int(e.c.p.cfg.g_w) != w || int(e.c.p.cfg.g_h) != h {
		if err := e.configure(w, h); err != nil {
			return nil, noop, false, err
		}
	}
	if kbps := int(e.ctrl.bitRate.Load() / 1000); kbps != e.kbps {
		if err := e.c.setBitRate(kbps); err != nil {
			return nil, noop, false, err
		}
		e.kbps = kbps
	}

	// Timestamps in 90 kHz ticks from the first frame, strictly rising;
	// each frame lasts until the next one arrives, which for the newest
	// frame is estimated by the gap before it.
	var pts, dur int64
	if !e.started {
		e.started, e.t0 = true, t
		dur = int64(timebaseHz / e.fps)
	} else {
		pts = int64((t - e.t0) * timebaseHz / time.Second)
		if pts <= e.lastPts {
			pts = e.lastPts + 1
		}
		dur = pts - e.lastPts
	}
	e.lastPts = pts

	slot := e.freeSlot()
	forced := e.ctrl.forceKey.Swap(false)
	layer := -1
	if e.params.TemporalLayers > 1 {
		if forced {
			e.layerAt = 0 // a keyframe is layer 0 and starts the pattern
		}
		pat := layerPattern(e.params.TemporalLayers)
		layer = pat[e.layerAt%len(pat)]
	}
	out, got, key, cpu, wall, err := e.c.encode(yuv, pts, dur, forced, layer, slot.buf[:0])
	slot.buf = out
	if err != nil {
		if forced {
			e.ctrl.forceKey.Store(true)
		}
		slot.release()
		return nil, noop, false, err
	}

	s := &e.ctrl.stats
	e.ctrl.mu.Lock()
	s.EncodeCPU += cpu
	s.EncodeWall += wall
	s.Width, s.Height = w, h
	if got {
		s.Frames++
		s.Bytes += uint64(len(out))
		if key {
			s.KeyFrames++
		}
	} else {
		s.Dropped++
	}
	e.ctrl.mu.Unlock()

	if !got {
		slot.release()
		return nil, noop, false, nil
	}
	if key {
		e.layerAt = 1 // libvpx may make a keyframe of its own anywhere
	} else {
		e.layerAt++
	}
	return out, slot.release, true, nil
}

// freeSlot returns an output buffer the caller does not hold.
func (e *encoder) freeSlot() *outSlot {
	for _, s := range e.slots {
		if s.busy.CompareAndSwap(false, true) {
			return s
		}
	}
	s := &outSlot{}
	s.release = func() { s.busy.Store(false) }
	s.busy.Store(true)
	if len(e.slots) < maxSlots {
		e.slots = append(e.slots, s)
	} else {
		s.release = noop // unpooled: the garbage collector reclaims it
	}
	return s
}

// checkPlanes makes sure libvpx cannot read outside img's slices.
func checkPlanes(img *image.YCbCr) error {
	r := img.Rect
	w, h := r.Dx(), r.Dy()
	if w <= 0 || h <= 0 || w > maxDim || h > maxDim {
		return fmt.Errorf("vp8: frame size %dx%d outside 1..%d: %w", w, h, maxDim, ErrBadFrame)
	}
	cw, ch := (w+1)/2, (h+1)/2
	yo := img.YOffset(r.Min.X, r.Min.Y)
	co := img.COffset(r.Min.X, r.Min.Y)
	switch {
	case img.YStride < w || img.CStride < cw,
		yo < 0 || co < 0,
		yo+(h-1)*img.YStride+w > len(img.Y),
		co+(ch-1)*img.CStride+cw > len(img.Cb),
		co+(ch-1)*img.CStride+cw > len(img.Cr):
		return fmt.Errorf("vp8: %dx%d frame planes too short for their strides: %w", w, h, ErrBadFrame)
	}
	return nil
}

// Close frees the libvpx context. It is idempotent and safe to call while
// another goroutine is in Read, which then returns io.EOF. It does not
// close the source reader.
func (e *encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.c != nil {
		e.c.close()
		e.c = nil
	}
	return nil
}

// Controller returns the encoder's Controller.
func (e *encoder) Controller() codec.EncoderController {
	return e.ctrl
}

func (c *controller) ForceKeyFrame() error {
	c.forceKey.Store(true)
	return nil
}

func (c *controller) SetBitRate(bps int) error {
	bps = clamp(bps, c.minBitRate, c.maxBitRate)
	c.bitRate.Store(int64(bps))
	c.mu.Lock()
	c.stats.TargetBitRate = bps
	c.mu.Unlock()
	return nil
}

func (c *controller) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

var _ Controller = (*controller)(nil)
