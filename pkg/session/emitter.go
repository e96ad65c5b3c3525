package session

import "sync"

// emitter hands events to the caller's handler one at a time, in the
// order they were emitted, from one goroutine of its own: emit only
// queues, so the session's goroutines never wait for the handler and
// never call it two at once. close delivers what is queued and joins the
// goroutine.
type emitter struct {
	handler func(Event)

	mu      sync.Mutex
	queue   []Event
	closed  bool
	wake    chan struct{} // one pending wake-up for the goroutine
	stopped chan struct{} // closed when the goroutine has returned
}

func newEmitter(handler func(Event)) *emitter {
	e := &emitter{handler: handler, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go e.run()
	return e
}

// emit queues ev for the handler; it never blocks. Events emitted after
// close are dropped.
func (e *emitter) emit(ev Event) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.queue = append(e.queue, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *emitter) run() {
	defer close(e.stopped)
	for {
		e.mu.Lock()
		batch, closed := e.queue, e.closed
		e.queue = nil
		e.mu.Unlock()
		for _, ev := range batch {
			e.handler(ev)
		}
		if closed && len(batch) == 0 {
			return
		}
		if len(batch) == 0 {
			<-e.wake
		}
	}
}

// close delivers every event queued so far, then stops the goroutine and
// waits for it. It is idempotent.
func (e *emitter) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	<-e.stopped
}
