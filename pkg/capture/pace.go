package capture

import (
	"context"
	"time"
)

// pacer releases a source's frames at a fixed interval until it is
// closed. Only the source's Read goroutine calls wait; close may be called
// from anywhere.
type pacer struct {
	interval time.Duration
	ctx      context.Context
	cancel   context.CancelFunc
	ticker   *time.Ticker
}

func newPacer(interval time.Duration) pacer {
	ctx, cancel := context.WithCancel(context.Background())
	return pacer{interval: interval, ctx: ctx, cancel: cancel}
}

// wait returns at the next frame time (at once for the first frame) and
// reports false once the pacer is closed.
func (p *pacer) wait() bool {
	if p.ticker == nil {
		p.ticker = time.NewTicker(p.interval)
	} else {
		select {
		case <-p.ticker.C:
		case <-p.ctx.Done():
		}
	}
	if p.ctx.Err() != nil {
		p.ticker.Stop()
		return false
	}
	return true
}

// close makes the pending and every later wait return false.
func (p *pacer) close() { p.cancel() }
