package peer

import (
	"math"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// captureLags corrects the sender reports of the tracks that say how
// late they send what they capture (SendTrack.CaptureLag). pion's report
// interceptor pairs the RTP time of a stream's latest frame with when the
// frame's first packet was sent (plus the time since, at the clock
// rate), but a receiver putting tracks in sync needs the RTP time of what
// was captured at the report's NTP time (RFC 3550 section 6.4.1: the
// instant the NTP timestamp names, "in the same units as the data
// timestamps"). A frame sent d after its capture thus makes the reported
// RTP time d too small: a microphone's 20 ms chunk, handed over when its
// last sample is in, puts the sound 20 ms late against the picture.
// Adding d at the clock rate to each report's RTP time corrects it.
//
// It must come before pion's report interceptor in the registry, so the
// reports that interceptor writes pass through it.
type captureLags struct {
	mu     sync.Mutex
	bySSRC map[uint32]lagSource
}

// lagSource is one sending track's CaptureLag and its clock rate.
type lagSource struct {
	lag   func() time.Duration
	clock uint32
}

// add makes the reports of ssrc take lag into account.
func (c *captureLags) add(ssrc uint32, clock uint32, lag func() time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bySSRC == nil {
		c.bySSRC = make(map[uint32]lagSource)
	}
	c.bySSRC[ssrc] = lagSource{lag: lag, clock: clock}
}

// fix returns pkts with the sender reports of known SSRCs corrected; the
// packets given are not changed.
func (c *captureLags) fix(pkts []rtcp.Packet) []rtcp.Packet {
	var out []rtcp.Packet
	for i, p := range pkts {
		sr, ok := p.(*rtcp.SenderReport)
		if !ok {
			continue
		}
		c.mu.Lock()
		src, ok := c.bySSRC[sr.SSRC]
		c.mu.Unlock()
		if !ok {
			continue
		}
		d := src.lag()
		if d <= 0 {
			continue
		}
		if out == nil {
			out = append([]rtcp.Packet(nil), pkts...)
		}
		fixed := *sr
		fixed.RTPTime += uint32(math.Round(d.Seconds() * float64(src.clock)))
		out[i] = &fixed
	}
	if out == nil {
		return pkts
	}
	return out
}

// NewInterceptor implements interceptor.Factory.
func (c *captureLags) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &lagInterceptor{c: c}, nil
}

// lagInterceptor is captureLags in one PeerConnection's chain.
type lagInterceptor struct {
	interceptor.NoOp
	c *captureLags
}

// BindRTCPWriter corrects the sender reports written through it.
func (i *lagInterceptor) BindRTCPWriter(writer interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		return writer.Write(i.c.fix(pkts), a)
	})
}
