package capture

import (
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"sync/atomic"
	"time"

	mdcodec "github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// Track is an encoded track, video or sound: a webrtc.TrackLocal fed by a
// source through the encoder of its codec. Add it to a PeerConnection,
// Start it once connected (a video track's first frame is then a
// keyframe), Close it when done.
type Track struct {
	*webrtc.TrackLocalStaticSample

	codec codec.Descriptor

	closeSrc func() error

	mu      sync.Mutex
	enc     mdcodec.ReadCloser
	started bool
	closed  bool
	wg      sync.WaitGroup
	err     error

	interval time.Duration // the nominal frame interval
	// fixed says every frame lasts interval exactly (sound: timestamps
	// follow the samples coded); otherwise frames last the time between
	// their captures (video).
	fixed  bool
	camera cameraInfo  // set for V4L2 cameras
	mic    *Microphone // set for microphones
	// micDropped counts the samples a microphone could not buffer.
	micDropped func() uint64

	done     chan struct{} // closed when the frames stop flowing
	frames   atomic.Uint64
	captured atomic.Int64 // unix ns when the frame being encoded was read
	lag      atomic.Int64 // ns from the capture of the last frame sent to its sending

	// nowhere holds the IDs of the bindings of a sound track to a peer
	// whose other side took none of its codecs (Bind).
	nowhere sync.Map
}

// Bind implements webrtc.TrackLocal. A sound track whose codec the other
// side cannot take (it rejected the sound, or has Opus at another clock
// rate) binds to nothing instead of failing, so that the call goes on
// without sound: pion would otherwise fail the whole description (its
// ErrUnsupportedCodec). A video track's codec must match.
func (t *Track) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	p, err := t.TrackLocalStaticSample.Bind(ctx)
	if errors.Is(err, webrtc.ErrUnsupportedCodec) && t.codec.Kind == codec.Audio {
		t.nowhere.Store(ctx.ID(), true)
		return t.codec.Parameters(), nil
	}
	return p, err
}

// Unbind implements webrtc.TrackLocal, for Bind's bindings to nothing too.
func (t *Track) Unbind(ctx webrtc.TrackLocalContext) error {
	if _, ok := t.nowhere.LoadAndDelete(ctx.ID()); ok {
		return nil
	}
	return t.TrackLocalStaticSample.Unbind(ctx)
}

// newTrack builds the encoder up front (a real encoder's set-up costs tens of
// milliseconds at HD sizes), so that Start, on the connection's critical
// path, only starts the frames flowing.
//
// The track is desc's: its capability names the codec and desc's
// payloader splits its frames into RTP packets.
//
// The track takes over the source: closeSrc is called exactly once, here
// if newTrack fails, else by the track's Close.
func newTrack(r video.Reader, closeSrc func() error, desc codec.Descriptor, b mdcodec.VideoEncoderBuilder, m prop.Media) (*Track, error) {
	tl, err := webrtc.NewTrackLocalStaticSample(desc.Capability(), "video", "p2pcam", payloaderOption(desc)...)
	if err != nil {
		closeSrc()
		return nil, fmt.Errorf("create track: %w", err)
	}
	t := &Track{TrackLocalStaticSample: tl, codec: desc, closeSrc: closeSrc, done: make(chan struct{})}
	// Note when each frame was captured: RTP timestamps follow capture,
	// not the moments the encoder hands frames over, which bunch up after
	// a stall.
	stamped := video.ReaderFunc(func() (image.Image, func(), error) {
		img, release, err := r.Read()
		if err == nil {
			t.captured.Store(time.Now().UnixNano())
		}
		return img, release, err
	})
	enc, err := b.BuildVideoEncoder(stamped, m)
	if err != nil {
		closeSrc()
		return nil, fmt.Errorf("start encoder: %w", err)
	}
	interval := time.Second / 30
	if m.FrameRate > 0 {
		interval = time.Duration(float64(time.Second) / float64(m.FrameRate))
	}
	t.enc, t.interval = enc, interval
	return t, nil
}

// payloaderOption makes a track packetize with desc's payloader.
func payloaderOption(desc codec.Descriptor) []func(*webrtc.TrackLocalStaticRTP) {
	if desc.NewPayloader == nil {
		return nil
	}
	return []func(*webrtc.TrackLocalStaticRTP){webrtc.WithPayloader(func(webrtc.RTPCodecCapability) (rtp.Payloader, error) {
		return desc.NewPayloader(), nil
	})}
}

// Start starts capturing, encoding and sending in the background; the
// first frame is a keyframe. It is an error to Start twice or after Close.
func (t *Track) Start() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.started {
		return errors.New("capture: track already started or closed")
	}
	t.started = true
	t.wg.Add(1)
	go t.pump(t.enc)
	return nil
}

// pump moves encoded frames to the track until the source or encoder ends.
// A video frame lasts the real time since the previous one, so RTP
// timestamps follow the capture clock; a sound packet lasts the samples
// it codes, so RTP timestamps follow the sample count.
func (t *Track) pump(enc mdcodec.ReadCloser) {
	defer t.wg.Done()
	defer close(t.done)
	last := time.Time{}
	fallback := t.interval
	for {
		data, release, err := enc.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.mu.Lock()
				t.err = err
				t.mu.Unlock()
			}
			return
		}
		// The encoder (lag 0, no frame dropping) returns the frame it
		// read last, so captured is this frame's capture time.
		d := fallback
		if !t.fixed {
			now := time.Unix(0, t.captured.Load())
			if !last.IsZero() {
				d = max(now.Sub(last), time.Millisecond)
			}
			last = now
		}
		if c := t.captured.Load(); c != 0 {
			t.lag.Store(max(time.Since(time.Unix(0, c)), 0).Nanoseconds())
		}
		werr := t.WriteSample(media.Sample{Data: data, Duration: d})
		release()
		if werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
			t.mu.Lock()
			t.err = fmt.Errorf("send frame: %w", werr)
			t.mu.Unlock()
			return
		}
		t.frames.Add(1)
	}
}

// CaptureLag is how long after its capture the frame last sent was
// handed to the track to send: the encoder's time, plus for sound the
// time a chunk waits to be whole (a microphone hands 20 ms over once it
// recorded all of it). pion's sender reports pair a frame's RTP time with
// when its first packet is sent; peer.SendTrack.CaptureLag takes this to
// make them pair it with the capture instead, which is what puts sound
// and picture in sync at the receiver. 0 until a frame was sent.
func (t *Track) CaptureLag() time.Duration { return time.Duration(t.lag.Load()) }

// Encoder returns the encoder's controller (for keyframes, bitrate and
// statistics).
func (t *Track) Encoder() mdcodec.EncoderController {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.enc == nil {
		return nil
	}
	return t.enc.Controller()
}

// ForceKeyFrame makes the next frame a keyframe, e.g. on a PLI.
func (t *Track) ForceKeyFrame() {
	if kc, ok := t.Encoder().(mdcodec.KeyFrameController); ok {
		_ = kc.ForceKeyFrame()
	}
}

// SetBitRate changes the encoder's target, e.g. on a congestion
// controller's estimate.
func (t *Track) SetBitRate(bps int) {
	if bc, ok := t.Encoder().(mdcodec.BitRateController); ok {
		_ = bc.SetBitRate(bps)
	}
}

// SetPacketLoss tells an encoder that codes redundancy against loss (Opus's
// in-band FEC) the loss expected, in percent; other encoders ignore it.
func (t *Track) SetPacketLoss(percent int) {
	if lc, ok := t.Encoder().(interface{ SetPacketLoss(int) error }); ok {
		_ = lc.SetPacketLoss(min(max(percent, 0), 100))
	}
}

// Codec returns the descriptor of the track's codec.
func (t *Track) Codec() codec.Descriptor { return t.codec }

// Done is closed when the track stops sending after Start: the source
// ended or failed (see Err), or Close was called.
func (t *Track) Done() <-chan struct{} { return t.done }

// FramesSent counts frames handed to the track.
func (t *Track) FramesSent() uint64 { return t.frames.Load() }

// Err returns what stopped the track early, if anything did.
func (t *Track) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Close closes the source, whether or not the track was started, and the
// encoder, and waits for the track's goroutine. It is idempotent: the
// source and encoder are closed once, by the first call.
func (t *Track) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	enc := t.enc
	t.mu.Unlock()
	err := t.closeSrc()
	if enc != nil {
		if cerr := enc.Close(); err == nil {
			err = cerr
		}
	}
	t.wg.Wait()
	return err
}

// CameraDropped counts the frames a camera source skipped as corrupt or
// short; 0 for other sources.
func (t *Track) CameraDropped() uint64 {
	if t.camera == nil {
		return 0
	}
	return t.camera.Dropped()
}

// CameraMode says which camera was opened in which mode, and false for
// sources other than a V4L2 camera.
func (t *Track) CameraMode() (name string, mode ModeChoice, ok bool) {
	if t.camera == nil {
		return "", ModeChoice{}, false
	}
	return t.camera.Name(), t.camera.Mode(), true
}
