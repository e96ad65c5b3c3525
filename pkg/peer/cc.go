package peer

import (
	"fmt"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
)

// Congestion configures send-side congestion control: Google Congestion
// Control (draft-ietf-rmcat-gcc-02) estimating the path's capacity from
// transport-wide congestion control feedback (TWCC) and losses, and
// steering the encoder's bitrate within [Min, Max].
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
// last one passed or the peer closed. pion announces each change on a
// goroutine of its own, so announcements can arrive out of order: reading
// the current target under the lock, instead of trusting the announced
// value, makes the last call carry the latest target.
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

// congestionInterceptor builds the GCC interceptor for c. It paces
// nothing: the encoder's constant bitrate at the target is the pacing.
// pion's leaky-bucket pacer keeps an unbounded queue that never drops, so
// behind a slow link it would hold seconds of stale video; the point is
// never to queue video behind a slow link. (Both pion pacers know only the
// media SSRC: RTX retransmissions, RFC 4588, would be refused, which is
// why p2pcam retransmits on the media stream.)
func congestionInterceptor(c *Congestion, est *estimator, lf logging.LoggerFactory) (interceptor.Factory, error) {
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(c.Initial),
			gcc.SendSideBWEMinBitrate(c.Min),
			gcc.SendSideBWEMaxBitrate(c.Max),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
			gcc.WithLoggerFactory(lf),
		)
	})
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
