package iostreams

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Console writes progress for a person, one line at a time from any
// goroutine. On a terminal it also keeps one status line at the bottom,
// rewritten in place, which regular lines push up. Its methods are safe for
// concurrent use.
type Console struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	status   string
}

// NewConsole returns a Console writing to w (nil: nowhere), with a status
// line when terminal says w is one.
func NewConsole(w io.Writer, terminal bool) *Console {
	if w == nil {
		w = io.Discard
	}
	return &Console{w: w, terminal: terminal}
}

// Terminal reports whether the console writes to a terminal.
func (s *Console) Terminal() bool { return s.terminal }

// Linef prints one line of progress above the status line.
func (s *Console) Linef(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != "" {
		fmt.Fprint(s.w, "\r\x1b[K")
	}
	fmt.Fprintf(s.w, format+"\n", args...)
	if s.status != "" {
		fmt.Fprint(s.w, s.status)
	}
}

// SetStatus replaces the status line; it does nothing off a terminal.
// An empty text removes it.
func (s *Console) SetStatus(text string) {
	if !s.terminal {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprint(s.w, "\r\x1b[K"+text)
	s.status = text
}

// Write lets other code (the terminal blob reader) print through the
// console, so its lines land above the status line too.
func (s *Console) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != "" {
		fmt.Fprint(s.w, "\r\x1b[K")
	}
	n, err := s.w.Write(p)
	if s.status != "" && len(p) > 0 && p[len(p)-1] == '\n' {
		fmt.Fprint(s.w, s.status)
	}
	return n, err
}

// Countdown shows how long is left until deadline, for what (e.g. "to
// paste the answer"), until stop is called: in the status line every
// second on a terminal, else as a line at each whole minute and at 30 and
// 10 seconds left.
func (s *Console) Countdown(deadline time.Time, what string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		// Off a terminal, no line for the full time: the caller just said it.
		said := map[time.Duration]bool{time.Until(deadline).Round(time.Second): true}
		for {
			left := time.Until(deadline).Round(time.Second)
			if left < 0 {
				left = 0
			}
			if s.terminal {
				s.SetStatus(fmt.Sprintf("%s left %s", Clock(left), what))
			} else if (left%time.Minute == 0 || left == 30*time.Second || left == 10*time.Second) && left > 0 && !said[left] {
				said[left] = true
				s.Linef("%s left %s", Clock(left), what)
			}
			select {
			case <-tick.C:
			case <-done:
				s.SetStatus("")
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// Clock formats d as m:ss, as the countdowns show it; a negative d is 0:00.
func Clock(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}
