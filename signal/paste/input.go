package paste

import (
	"errors"
	"sync"
)

// errStopped is what an input's reads return once its stop was called.
var errStopped = errors.New("read of the blob input stopped")

// stopFlag records that an input's stop was called; each system's input
// embeds it.
type stopFlag struct {
	mu      sync.Mutex
	stopped bool
}

// isStopped reports whether stop was called.
func (s *stopFlag) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}
