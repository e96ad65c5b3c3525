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

	// onKeyFrame receives the media SSRC of each keyframe request.
	onKeyFrame func(ssrc uint32)

	// per counts the same feedback for each media SSRC it names.
	perMu sync.Mutex
	per   map[uint32]*Counters

	byeOnce sync.Once
	bye     chan struct{}
	// reason is what the remote side's BYE said, set before bye closes;
	// "" when it hung up without one (its DTLS transport closed first).
	reason string

	// reports holds the latest sender report of each remote SSRC.
	reportsMu sync.Mutex
	reports   map[uint32]SenderReport

	// heard is when a packet (RTP or RTCP) last came from the remote side,
	// in Unix nanoseconds; 0 before the first.
	heard atomic.Int64
}

func (w *watcher) hear() { w.heard.Store(time.Now().UnixNano()) }

func newWatcher(onKeyFrame func(ssrc uint32)) *watcher {
	return &watcher{
		bye: make(chan struct{}), onKeyFrame: onKeyFrame,
		per: make(map[uint32]*Counters), reports: make(map[uint32]SenderReport),
	}
}

func (w *watcher) keyFrame(ssrc uint32) {
	if w.onKeyFrame != nil {
		w.onKeyFrame(ssrc)
	}
}

// count applies f to the counters of ssrc.
func (w *watcher) count(ssrc uint32, f func(*Counters)) {
	w.perMu.Lock()
	defer w.perMu.Unlock()
	c := w.per[ssrc]
	if c == nil {
		c = &Counters{}
		w.per[ssrc] = c
	}
	f(c)
}

// countersFor returns the feedback counted for ssrc.
func (w *watcher) countersFor(ssrc uint32) Counters {
	w.perMu.Lock()
	defer w.perMu.Unlock()
	if c := w.per[ssrc]; c != nil {
		return *c
	}
	return Counters{}
}

// nacked counts the packets a NACK asks for.
func nacked(p *rtcp.TransportLayerNack) uint64 {
	n := uint64(0)
	for _, pair := range p.Nacks {
		n += uint64(len(pair.PacketList()))
	}
	return n
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

// report keeps sr as the latest sender report of its SSRC.
func (w *watcher) report(sr *rtcp.SenderReport) {
	w.reportsMu.Lock()
	defer w.reportsMu.Unlock()
	prev := w.reports[sr.SSRC]
	w.reports[sr.SSRC] = SenderReport{
		NTP:      ntpTime(sr.NTPTime),
		RTPTime:  sr.RTPTime,
		Received: time.Now(),
		Count:    prev.Count + 1,
	}
}

// reportFor returns the latest sender report of ssrc.
func (w *watcher) reportFor(ssrc uint32) (SenderReport, bool) {
	w.reportsMu.Lock()
	defer w.reportsMu.Unlock()
	sr, ok := w.reports[ssrc]
	return sr, ok
}

// ntpTime converts a 64-bit NTP timestamp (RFC 3550 §4: seconds since
// 1900 in the high 32 bits, the fraction in the low) to a time.Time.
func ntpTime(t uint64) time.Time {
	const unixToNTP = 2208988800 // seconds from 1900 to 1970
	secs := int64(t>>32) - unixToNTP
	frac := int64((t & 0xffffffff) * uint64(time.Second) >> 32) // #nosec G115: below 1e9
	return time.Unix(secs, frac)
}

func (w *watcher) observe(pkts []rtcp.Packet) {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			w.report(p)
		case *rtcp.Goodbye:
			w.hangUp(p.Reason)
		case *rtcp.PictureLossIndication:
			w.plis.Add(1)
			w.count(p.MediaSSRC, func(c *Counters) { c.PLIs++ })
			w.keyFrame(p.MediaSSRC)
		case *rtcp.FullIntraRequest:
			// A FIR names its streams in its entries (RFC 5104 §4.3.1).
			w.firs.Add(1)
			ssrc := p.MediaSSRC
			if len(p.FIR) > 0 {
				ssrc = p.FIR[0].SSRC
			}
			w.count(ssrc, func(c *Counters) { c.FIRs++ })
			w.keyFrame(ssrc)
		case *rtcp.TransportLayerNack:
			n := nacked(p)
			w.nacks.Add(n)
			w.count(p.MediaSSRC, func(c *Counters) { c.NACKs += n })
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
				n := nacked(p)
				i.w.nacksSent.Add(n)
				i.w.count(p.MediaSSRC, func(c *Counters) { c.NACKsSent += n })
			case *rtcp.PictureLossIndication:
				i.w.plisSent.Add(1)
				i.w.count(p.MediaSSRC, func(c *Counters) { c.KeyFramesSent++ })
			case *rtcp.FullIntraRequest:
				i.w.plisSent.Add(1)
				i.w.count(p.MediaSSRC, func(c *Counters) { c.KeyFramesSent++ })
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
