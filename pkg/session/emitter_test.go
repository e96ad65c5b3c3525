package session

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestEmitterOneAtATime: events emitted from many goroutines at once
// reach the handler one at a time, each goroutine's in the order it
// emitted them, and all of them by the time close returns.
func TestEmitterOneAtATime(t *testing.T) {
	const goroutines, each = 8, 200
	var (
		inside  atomic.Int32
		overlap atomic.Bool
		last    [goroutines]int // touched only by the handler
		got     int
		order   []string
	)
	e := newEmitter(func(ev Event) {
		if inside.Add(1) > 1 {
			overlap.Store(true)
		}
		defer inside.Add(-1)
		v := ev.(Back)
		g, n := int(v.After)/each, int(v.After)%each
		if n != last[g] {
			order = append(order, fmt.Sprintf("goroutine %d: event %d after %d", g, n, last[g]-1))
		}
		last[g] = n + 1
		got++
	})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for n := range each {
				e.emit(Back{After: timeUnits(g*each + n)})
			}
		})
	}
	wg.Wait()
	e.close()
	e.close()
	if overlap.Load() {
		t.Fatal("the handler ran for two events at once")
	}
	if len(order) > 0 {
		t.Fatalf("events out of order: %v", order[:min(len(order), 5)])
	}
	if got != goroutines*each {
		t.Fatalf("%d events delivered by close; want %d", got, goroutines*each)
	}
	e.emit(Back{}) // after close: dropped, no panic
}

// timeUnits is n as a duration, for tagging test events.
func timeUnits(n int) time.Duration { return time.Duration(n) }
