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
	// OnTarget receives each new target bitrate. It runs on the
	// estimator's goroutine and must not block; setting the encoder's
	// bitrate is the intended use.
	OnTarget func(bps int)
}

// estimator holds the peer's bandwidth estimator once pion created it.
type estimator struct {
	mu  sync.Mutex
	bwe cc.BandwidthEstimator
}

func (e *estimator) set(b cc.BandwidthEstimator) {
	e.mu.Lock()
	e.bwe = b
	e.mu.Unlock()
}

func (e *estimator) target() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bwe == nil {
		return 0
	}
	return e.bwe.GetTargetBitrate()
}

// congestionInterceptor builds the GCC interceptor for c. It paces
// nothing: the encoder's constant bitrate at the target is the pacing, and
// a pacer queue would only add delay — the point is never to queue video
// behind a slow link.
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
			b.OnTargetBitrateChange(c.OnTarget)
		}
	})
	return f, nil
}

// TargetBitrate returns the congestion controller's current estimate in
// bits/s, or 0 without congestion control.
func (p *Peer) TargetBitrate() int { return p.est.target() }
