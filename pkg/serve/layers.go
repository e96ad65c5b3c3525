package serve

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// How one encoder serves viewers whose links carry different rates: the
// encoder makes temporal layers (serveLayers: 7.5, 15 and 30 fps at 30
// fps, codec.Layering), packetized once; each viewer's peer is bound to
// its own thinTrack over the shared track, whose writer leaves out the
// frames above the viewer's layer, has the codec renumber its pictures
// (LayerFilter) and renumbers the RTP sequence so that the viewer sees
// one stream without gaps (RFC 3550 §5.1: a gap is a loss it would NACK).
// Packets go out through each viewer's own interceptors, so NACK history,
// congestion control and statistics stay per viewer. Keyframes go to
// everyone.

// serveLayers is how many temporal layers the encoder makes when its
// codec has them.
const serveLayers = 3

// thinTrack is one viewer's binding of a layered track: a
// webrtc.TrackLocal whose packets pass through the viewer's thinWriter.
type thinTrack struct {
	webrtc.TrackLocal // the shared track
	w                 *thinWriter
}

func newThinTrack(t webrtc.TrackLocal, l *codec.Layering, layer *atomic.Int32) *thinTrack {
	return &thinTrack{TrackLocal: t, w: &thinWriter{filter: l.NewFilter(), layer: layer}}
}

// Bind binds the shared track to the viewer's peer through the writer.
func (t *thinTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	t.w.mu.Lock()
	t.w.out = ctx.WriteStream()
	t.w.mu.Unlock()
	return t.TrackLocal.Bind(thinContext{TrackLocalContext: ctx, w: t.w})
}

// Unbind unbinds it; the shared track finds the binding by ctx's ID.
// The writer then lets go of the viewer's peer and layer: pion's Unbind
// moves the last binding into the gap without clearing the old last slot,
// so the shared track's slice keeps copies of removed bindings in its
// spare capacity, and each would otherwise hold a gone viewer's whole
// PeerConnection until a newcomer's binding overwrote it.
func (t *thinTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	err := t.TrackLocal.Unbind(thinContext{TrackLocalContext: ctx, w: t.w})
	t.w.mu.Lock()
	t.w.out, t.w.layer = nil, &unboundLayer
	t.w.mu.Unlock()
	return err
}

// unboundLayer is an unbound writer's layer, so that it holds nothing of
// its viewer.
var unboundLayer atomic.Int32

// frames counts the frames sent to the viewer.
func (t *thinTrack) frames() uint64 { return t.w.frames.Load() }

type thinContext struct {
	webrtc.TrackLocalContext
	w *thinWriter
}

func (c thinContext) WriteStream() webrtc.TrackLocalWriter { return c.w }

// thinWriter is the shared track's writer for one viewer. The shared track
// writes to it from its one sending goroutine, with a header and payload
// it shares with the other viewers' writers: both are copied.
type thinWriter struct {
	filter codec.LayerFilter
	frames atomic.Uint64

	mu      sync.Mutex
	layer   *atomic.Int32 // the highest layer the viewer gets
	out     webrtc.TrackLocalWriter
	started bool
	seq     uint16 // the viewer's sequence number of the next packet
}

// WriteRTP sends the packet to the viewer, renumbered, or leaves it out.
func (w *thinWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.out == nil {
		return 0, io.ErrClosedPipe
	}
	p, ok := w.filter.Filter(append([]byte(nil), payload...), int(w.layer.Load()))
	if !ok {
		return 0, nil
	}
	hh := h.Clone()
	if !w.started {
		w.started, w.seq = true, h.SequenceNumber
	}
	hh.SequenceNumber = w.seq
	w.seq++
	n, err := w.out.WriteRTP(&hh, p)
	if err == nil && hh.Marker {
		w.frames.Add(1)
	}
	return n, err
}

// Write sends a whole RTP packet as WriteRTP does.
func (w *thinWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, fmt.Errorf("thin writer: %w", err)
	}
	return w.WriteRTP(&p.Header, p.Payload)
}
