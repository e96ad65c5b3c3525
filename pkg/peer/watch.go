package peer

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// watcher is an interceptor that looks at every RTCP packet the peer
// receives, on the sending and the receiving side alike. It counts feedback
// (NACK, PLI, FIR) and notices the remote side's BYE (RFC 3550 §6.6), which
// is how a p2pcam peer says it is hanging up: pion keeps a PeerConnection
// "connected" after the remote DTLS transport closes.
type watcher struct {
	nacks, plis, firs atomic.Uint64
	// What this side asked for: NACKed packets and keyframe requests.
	nacksSent, plisSent atomic.Uint64

	onKeyFrame func()

	byeOnce sync.Once
	bye     chan struct{}
	// reason is what the remote side's BYE said, set before bye closes;
	// "" when it hung up without one (its DTLS transport closed first).
	reason string

	// heard is when a packet (RTP or RTCP) last came from the remote side,
	// in Unix nanoseconds; 0 before the first.
	heard atomic.Int64
}

func (w *watcher) hear() { w.heard.Store(time.Now().UnixNano()) }

func newWatcher(onKeyFrame func()) *watcher {
	return &watcher{bye: make(chan struct{}), onKeyFrame: onKeyFrame}
}

func (w *watcher) keyFrame() {
	if w.onKeyFrame != nil {
		w.onKeyFrame()
	}
}

// NewInterceptor implements interceptor.Factory. Every PeerConnection built
// with the registry shares one watcher; p2pcam builds one registry per peer.
func (w *watcher) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &watchInterceptor{w: w}, nil
}

// hangUp notes the remote side's hang-up, with the reason its BYE gave
// ("" when none); the first call wins.
func (w *watcher) hangUp(reason string) {
	w.byeOnce.Do(func() {
		w.reason = reason
		close(w.bye)
	})
}

func (w *watcher) observe(pkts []rtcp.Packet) {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.Goodbye:
			w.hangUp(p.Reason)
		case *rtcp.PictureLossIndication:
			w.plis.Add(1)
			w.keyFrame()
		case *rtcp.FullIntraRequest:
			w.firs.Add(1)
			w.keyFrame()
		case *rtcp.TransportLayerNack:
			for _, pair := range p.Nacks {
				w.nacks.Add(uint64(len(pair.PacketList())))
			}
		}
	}
}

type watchInterceptor struct {
	interceptor.NoOp
	w *watcher
}

// BindRTCPWriter counts the feedback this side sends. The watcher must be
// the first interceptor in the chain for this to see what the NACK
// generator writes.
func (i *watchInterceptor) BindRTCPWriter(writer interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.TransportLayerNack:
				for _, pair := range p.Nacks {
					i.w.nacksSent.Add(uint64(len(pair.PacketList())))
				}
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				i.w.plisSent.Add(1)
			}
		}
		return writer.Write(pkts, a)
	})
}

// BindRTCPReader passes RTCP through unchanged, observing it on the way.
func (i *watchInterceptor) BindRTCPReader(reader interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := reader.Read(b, a)
		if err != nil {
			return n, attr, err
		}
		i.w.hear()
		if attr == nil {
			attr = make(interceptor.Attributes)
		}
		if pkts, perr := attr.GetRTCPPackets(b[:n]); perr == nil {
			i.w.observe(pkts)
		}
		return n, attr, nil
	})
}

// BindRemoteStream notes each RTP packet's arrival: the remote side is
// alive.
func (i *watchInterceptor) BindRemoteStream(_ *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := reader.Read(b, a)
		if err == nil {
			i.w.hear()
		}
		return n, attr, err
	})
}
