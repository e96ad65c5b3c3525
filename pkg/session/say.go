package session

import (
	"fmt"
	"io"
	"sync"
)

// sayer writes progress lines for a person, one at a time from any
// goroutine.
type sayer struct {
	mu sync.Mutex
	w  io.Writer
}

func newSayer(w io.Writer) *sayer {
	if w == nil {
		w = io.Discard
	}
	return &sayer{w: w}
}

// line prints one line of progress.
func (s *sayer) line(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", args...)
}
