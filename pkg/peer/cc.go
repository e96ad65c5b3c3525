package peer

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// Congestion configures send-side congestion control: a controller in the
// manner of Google Congestion Control (draft-ietf-rmcat-gcc-02) that reads
// transport-wide congestion control feedback (TWCC,
// draft-holmer-rmcat-transport-wide-cc-extensions-01) and steers the
// encoder's bitrate within [Min, Max]. It backs off on the queue a
// bottleneck builds (the one-way delay above the lowest seen) rather than
// only on its growth, so it settles under a rate cap with that queue
// drained; it backs off on heavy loss no lower than Min, and climbs back
// within seconds once the loss ends.
type Congestion struct {
	// Initial, Min and Max are bitrates in bits/s.
	Initial, Min, Max int
	// OnTarget receives each new target bitrate; setting the encoder's
	// bitrate is the intended use. Calls never overlap, the last one
	// carries the latest target, and none starts after Close returns. It
	// must not block: pion's feedback processing waits for it.
	OnTarget func(bps int)
}

// estimator holds the peer's bandwidth estimator once pion created it and
// hands its target changes to Congestion.OnTarget.
type estimator struct {
	mu      sync.Mutex
	bwe     cc.BandwidthEstimator
	stopped bool
	last    int // the target last given to OnTarget
}

func (e *estimator) set(b cc.BandwidthEstimator) {
	e.mu.Lock()
	e.bwe = b
	e.mu.Unlock()
}

func (e *estimator) target() int {
	e.mu.Lock()
	b := e.bwe
	e.mu.Unlock()
	if b == nil {
		return 0
	}
	return b.GetTargetBitrate()
}

// deliver passes the estimator's current target to f unless it was the
// last one passed or the peer closed. Announcements may come from more
// than one goroutine (pion's own estimator makes one for each), so they
// can arrive out of order: reading the current target under the lock,
// instead of trusting the announced value, makes the last call carry the
// latest target.
func (e *estimator) deliver(b cc.BandwidthEstimator, f func(int)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	if bps := b.GetTargetBitrate(); bps != e.last {
		e.last = bps
		f(bps)
	}
}

// stop ends deliveries; when it returns, none is running.
func (e *estimator) stop() {
	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
}

// congestionInterceptor builds the congestion control interceptor for c. It paces
// nothing: the encoder's constant bitrate at the target is the pacing.
// pion's leaky-bucket pacer keeps an unbounded queue that never drops, so
// behind a slow link it would hold seconds of stale video; the point is
// never to queue video behind a slow link. (Both pion pacers know only the
// media SSRC: RTX retransmissions, RFC 4588, would be refused, which is
// why p2pcam retransmits on the media stream.)
func congestionInterceptor(c *Congestion, est *estimator, lf logging.LoggerFactory) (interceptor.Factory, error) {
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) { return newEstimator(c, lf) })
	if err != nil {
		return nil, fmt.Errorf("configure congestion control: %w", err)
	}
	f.OnNewPeerConnection(func(_ string, b cc.BandwidthEstimator) {
		est.set(b)
		if c.OnTarget != nil {
			b.OnTargetBitrateChange(func(int) { est.deliver(b, c.OnTarget) })
		}
	})
	return f, nil
}

// TargetBitrate returns the congestion controller's current estimate in
// bits/s, or 0 without congestion control.
func (p *Peer) TargetBitrate() int { return p.est.target() }

// newEstimator builds the bandwidth estimator of one PeerConnection.
func newEstimator(c *Congestion, lf logging.LoggerFactory) (cc.BandwidthEstimator, error) {
	return newController(c.Initial, c.Min, c.Max, lf.NewLogger("congestion")), nil
}

// The controller's constants. Delays are queueing delays: one-way delay
// above the lowest one-way delay seen lately.
const (
	// queueHigh is the standing queue that means the path is over its
	// capacity; queueLow the one under which it is taken as drained.
	queueHigh = 20 * time.Millisecond
	queueLow  = 10 * time.Millisecond
	// backOff is the share of the measured receive rate the encoder's
	// output drops to on a standing queue: under the capacity, so the
	// queue drains. The target drops further when the encoder sends more
	// than its target (libvpx does by 10-20% at a few hundred kbit/s).
	backOff = 0.85
	// Over queueDeep (a burst at the call's start, a keyframe behind a
	// slow link) the target drops to drainBackOff of the receive rate, so
	// that the queue and the repairs it needs go through within a second
	// or two; once drained, the target climbs straight back to backOff of
	// the receive rate measured there.
	queueDeep    = 100 * time.Millisecond
	drainBackOff = 0.6
	// rateWindow is the span of arrivals the receive rate is measured
	// over; baseWindow how long the lowest one-way delay is remembered.
	rateWindow = 500 * time.Millisecond
	baseWindow = 10 * time.Second
	// Loss above lossHigh cuts the target (by half the loss ratio, at
	// most every lossStep); under lossLow the loss-based limit climbs by
	// lossClimb every lossStep (draft-ietf-rmcat-gcc-02 §6 climbs 5%: far
	// too slow to get back from the floor once random loss ends).
	lossHigh  = 0.10
	lossLow   = 0.02
	lossStep  = 200 * time.Millisecond
	lossClimb = 1.3
	// sentHistory is how many sent packets are remembered for their
	// feedback: a power of two.
	sentHistory = 1 << 12
)

// sentPacket is what the controller remembers of a packet it sent.
type sentPacket struct {
	seq   uint16
	at    time.Duration // since the controller started, on the local clock
	size  int           // payload bytes: what the encoder's target counts
	valid bool
	acked bool
}

// arrival is one packet the feedback says arrived.
type arrival struct {
	at   time.Duration // on the remote clock, arbitrary origin
	size int
}

// controller is p2pcam's bandwidth estimator (pion's cc.BandwidthEstimator):
// it numbers nothing itself (the TWCC header extension interceptor does)
// but notes when each numbered packet left, reads the arrivals in the
// feedback, and keeps two limits whose lower one is the target:
//
//   - the delay limit follows the bottleneck's queue: over queueHigh it
//     drops to backOff of the receive rate (drainBackOff over queueDeep,
//     then straight back to backOff of it once drained); under queueLow
//     it climbs, by 8% a second while no capacity is known and by half a
//     packet per response time near the capacity where it last backed
//     off, and never past 1.5 times the receive rate (gcc-02 §5.5);
//   - the loss limit follows the loss ratio of each feedback (gcc-02 §6),
//     but climbs quickly once loss ends.
//
// All figures come from the packets' own send and arrival times, so the
// controller's behaviour depends on the feedback only, never on when it is
// processed beyond the clock read at each step.
type controller struct {
	min, max float64
	log      logging.LeveledLogger
	start    time.Time

	mu       sync.Mutex
	extID    uint8
	sent     [sentHistory]sentPacket
	onChange func(int)
	closed   bool

	target    int
	delayRate float64
	lossRate  float64
	// base is the lowest one-way delay seen in the current and the
	// previous baseWindow; baseAt when the current window began.
	base, basePrev time.Duration
	baseAt         time.Duration
	haveBase       bool
	arrivals       []arrival // the last rateWindow of arrivals
	recvRate       float64
	queue          time.Duration // the standing queue of the last feedback
	capacity       float64       // receive rate at the last back-off; 0 unknown
	lastChange     time.Duration // the last increase or decrease of the delay limit
	lastDecrease   time.Duration
	haveDecrease   bool
	lossAvg        float64
	lastLoss       time.Duration // the last loss-limit change
	lastFeedback   time.Duration
	lastLog        time.Duration
	overshoot      float64 // the encoder's output over its target, a moving average
	rtt            time.Duration
}

func newController(initial, lo, hi int, log logging.LeveledLogger) *controller {
	initial = min(max(initial, lo), hi)
	return &controller{
		min: float64(lo), max: float64(hi), log: log, start: time.Now(),
		target: initial, delayRate: float64(initial), lossRate: float64(hi), overshoot: 1,
	}
}

func (c *controller) now() time.Duration { return time.Since(c.start) }

// AddStream notes the departure of each packet of the stream that carries
// a transport-wide sequence number.
func (c *controller) AddStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			id = uint8(e.ID) //nolint:gosec // header extension IDs are 1-14 (RFC 8285)
		}
	}
	if id == 0 {
		return w
	}
	c.mu.Lock()
	c.extID = id
	c.mu.Unlock()
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if ext := h.GetExtension(id); len(ext) >= 2 {
			seq := uint16(ext[0])<<8 | uint16(ext[1])
			c.mu.Lock()
			c.sent[seq%sentHistory] = sentPacket{seq: seq, at: c.now(), size: len(payload), valid: true}
			c.mu.Unlock()
		}
		return w.Write(h, payload, a)
	})
}

// WriteRTCP takes the TWCC feedback among pkts; other packets are ignored.
func (c *controller) WriteRTCP(pkts []rtcp.Packet, _ interceptor.Attributes) error {
	for _, p := range pkts {
		fb, ok := p.(*rtcp.TransportLayerCC)
		if !ok {
			continue
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil
		}
		before := c.target
		c.onFeedback(c.now(), fb)
		after, f := c.target, c.onChange
		c.mu.Unlock()
		if after != before && f != nil {
			f(after)
		}
	}
	return nil
}

// ack is one packet of a feedback report matched to its departure.
type ack struct {
	sent    sentPacket
	arrived bool
	at      time.Duration // arrival on the remote clock, when arrived and timed
	timed   bool
}

// acks matches fb's packet statuses to the packets sent; packets no
// longer remembered, or already reported as arrived, are left out.
func (c *controller) acks(fb *rtcp.TransportLayerCC) []ack {
	var out []ack
	seq := fb.BaseSequenceNumber
	left := int(fb.PacketStatusCount)
	at := time.Duration(fb.ReferenceTime) * 64 * time.Millisecond
	deltas := fb.RecvDeltas
	status := func(sym uint16) {
		if left == 0 {
			return
		}
		left--
		a := ack{}
		switch sym {
		case rtcp.TypeTCCPacketReceivedSmallDelta, rtcp.TypeTCCPacketReceivedLargeDelta:
			if len(deltas) == 0 {
				break
			}
			at += time.Duration(deltas[0].Delta) * time.Microsecond
			deltas = deltas[1:]
			a.arrived, a.at, a.timed = true, at, true
		case rtcp.TypeTCCPacketReceivedWithoutDelta:
			a.arrived = true
		}
		s := &c.sent[seq%sentHistory]
		if s.valid && s.seq == seq && !s.acked {
			a.sent = *s
			if a.arrived {
				s.acked = true
			}
			out = append(out, a)
		}
		seq++
	}
	for _, ch := range fb.PacketChunks {
		switch ch := ch.(type) {
		case *rtcp.RunLengthChunk:
			for range ch.RunLength {
				status(ch.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range ch.SymbolList {
				if ch.SymbolSize == rtcp.TypeTCCSymbolSizeOneBit && sym == 1 {
					sym = rtcp.TypeTCCPacketReceivedSmallDelta
				}
				status(sym)
			}
		}
	}
	return out
}

// onFeedback updates both limits and the target from one feedback report
// read at now. c.mu is held.
func (c *controller) onFeedback(now time.Duration, fb *rtcp.TransportLayerCC) {
	acks := c.acks(fb)
	if len(acks) == 0 {
		return
	}
	lost, queue := 0, time.Duration(-1)
	var newest time.Duration
	first, last, sent := acks[0].sent.at, acks[0].sent.at, 0
	for _, a := range acks {
		first, last = min(first, a.sent.at), max(last, a.sent.at)
		sent += a.sent.size
	}
	if span := last - first; span >= 100*time.Millisecond && c.target > 0 {
		rate := float64((sent-acks[0].sent.size)*8) / span.Seconds()
		c.overshoot += 0.1 * (min(max(rate/float64(c.target), 0.8), 1.5) - c.overshoot)
	}
	for _, a := range acks {
		if !a.arrived {
			lost++
			continue
		}
		if !a.timed {
			continue
		}
		owd := a.at - a.sent.at
		if now-c.baseAt > baseWindow || !c.haveBase {
			if !c.haveBase {
				c.basePrev = owd
			} else {
				c.basePrev = c.base
			}
			c.base, c.baseAt, c.haveBase = owd, now, true
		}
		c.base = min(c.base, owd)
		q := owd - min(c.base, c.basePrev)
		if queue < 0 || q < queue {
			queue = q
		}
		// The round trip: this packet's send to the feedback's arrival,
		// less the time the feedback waited for its last packet.
		newest = max(newest, a.at)
		c.arrivals = append(c.arrivals, arrival{a.at, a.sent.size})
	}
	if newest > 0 {
		for _, a := range acks {
			if a.timed && a.at == newest {
				c.rtt = now - a.sent.at
			}
		}
	}
	c.updateRecvRate()
	c.updateLoss(now, float64(lost)/float64(len(acks)))
	if queue >= 0 {
		c.queue = queue
		c.updateDelay(now, queue)
	}
	c.lastFeedback = now
	t := min(c.delayRate, c.lossRate)
	c.target = int(min(max(t, c.min), c.max))
	if now-c.lastLog >= time.Second {
		c.lastLog = now
		c.log.Debugf("target %d bit/s (delay %d, loss %d): receiving %d, encoder at %.2f of target, queue %v over base %v, loss %.1f%%, rtt %v",
			c.target, int(c.delayRate), int(c.lossRate), int(c.recvRate), c.overshoot, c.queue, min(c.base, c.basePrev), 100*c.lossAvg, c.rtt)
	}
}

// updateRecvRate measures the receive rate over the last rateWindow of
// arrivals, on the remote clock. It counts payload bytes only, as the
// encoder's target does: the headers (RTP, SRTP, UDP, IP: about 60 bytes a
// packet) then fit in the margin backing off leaves, instead of eating it.
func (c *controller) updateRecvRate() {
	if len(c.arrivals) == 0 {
		return
	}
	newest := c.arrivals[0].at
	for _, a := range c.arrivals {
		newest = max(newest, a.at)
	}
	keep := c.arrivals[:0]
	oldest, bytes := newest, 0
	for _, a := range c.arrivals {
		if newest-a.at <= rateWindow {
			keep = append(keep, a)
			oldest = min(oldest, a.at)
			bytes += a.size
		}
	}
	c.arrivals = keep
	span := newest - oldest
	if span < 50*time.Millisecond {
		return // too few arrivals to tell
	}
	// The oldest packet's bytes arrived before the span began.
	c.recvRate = float64((bytes-keep[0].size)*8) / span.Seconds()
}

// updateDelay moves the delay limit on the standing queue q.
func (c *controller) updateDelay(now, q time.Duration) {
	response := 100*time.Millisecond + c.rtt
	switch {
	case q > queueHigh && c.recvRate > 0:
		// Back off under what arrives, once per response time: the last
		// back-off shows in the feedback only a round trip later.
		if c.haveDecrease && now-c.lastDecrease < response {
			return
		}
		share := backOff
		if q > queueDeep {
			share = drainBackOff
		}
		next := share * c.recvRate / max(1, c.overshoot)
		if next >= c.delayRate {
			return
		}
		c.log.Debugf("queue %v over %v: target %d -> %d bit/s (receiving %d)", q, queueHigh, int(c.delayRate), int(next), int(c.recvRate))
		c.delayRate = max(next, c.min)
		c.capacity = c.recvRate
		c.lastDecrease, c.lastChange, c.haveDecrease = now, now, true
	case q < queueLow:
		dt := min(now-c.lastChange, time.Second)
		c.lastChange = now
		if c.haveDecrease && now-c.lastDecrease < response {
			return
		}
		if c.capacity > 0 && c.recvRate > 1.3*c.capacity {
			c.capacity = 0 // the path grew: search again
		}
		var next float64
		if safe := backOff * c.capacity / max(1, c.overshoot); c.delayRate < safe {
			// Drained after a deep back-off: straight back to a rate
			// the path carried.
			next = safe
		} else if c.capacity > 0 && c.delayRate < 1.3*c.capacity {
			// Near the capacity: half a packet per response time
			// (gcc-02 §5.5), the response time no shorter than 300 ms so
			// that on a short path the queue has time to show.
			packet := min(1200*8, c.delayRate/30)
			slow := 300*time.Millisecond + c.rtt
			next = c.delayRate + max(1000, 0.5*packet*dt.Seconds()/slow.Seconds())
		} else {
			next = c.delayRate * math.Pow(1.08, dt.Seconds())
		}
		if c.recvRate > 0 {
			next = min(next, max(c.delayRate, 1.5*c.recvRate))
		}
		c.delayRate = min(next, c.max)
	default:
		c.lastChange = now // hold
	}
}

// updateLoss moves the loss limit on the loss ratio of one feedback.
func (c *controller) updateLoss(now time.Duration, ratio float64) {
	dt := now - c.lastFeedback
	c.lossAvg = ratio + math.Exp(-float64(dt)/float64(lossStep))*(c.lossAvg-ratio)
	if now-c.lastLoss < lossStep {
		return
	}
	switch {
	case min(ratio, c.lossAvg) > lossHigh:
		from := min(c.lossRate, float64(c.target))
		c.lossRate = max(from*(1-0.5*min(ratio, c.lossAvg)), c.min)
		c.lastLoss = now
		c.log.Debugf("loss %.0f%%: target %d bit/s", 100*c.lossAvg, int(c.lossRate))
	case max(ratio, c.lossAvg) < lossLow && c.lossRate < c.max:
		c.lossRate = min(c.lossRate*lossClimb, c.max)
		c.lastLoss = now
	}
}

// GetTargetBitrate returns the current target in bits/s.
func (c *controller) GetTargetBitrate() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.target
}

// OnTargetBitrateChange sets f to be called with each new target, on the
// goroutine that delivers the feedback, after the change.
func (c *controller) OnTargetBitrateChange(f func(int)) {
	c.mu.Lock()
	c.onChange = f
	c.mu.Unlock()
}

// GetStats returns the controller's figures for logs.
func (c *controller) GetStats() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return map[string]any{
		"target":      c.target,
		"delayTarget": int(c.delayRate),
		"lossTarget":  int(c.lossRate),
		"receiveRate": int(c.recvRate),
		"queueMs":     float64(c.queue.Microseconds()) / 1000,
		"averageLoss": c.lossAvg,
		"rttMs":       float64(c.rtt.Microseconds()) / 1000,
	}
}

// Close ends the controller; feedback after it is ignored.
func (c *controller) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}
