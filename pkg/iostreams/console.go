package iostreams

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Console writes progress for a person, one line at a time from any
// goroutine. On a terminal it also keeps one status line at the bottom,
// rewritten in place, which regular lines push up. Its methods are safe for
// concurrent use.
//
// Everything printed on the console's terminal while a status line shows
// must go through the console (Linef, or Write for other code such as the
// --stats lines): a line written around it would glue onto the status line.
type Console struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	width    func() int // columns of the terminal, 0 if unknown
	status   string     // the status line as shown (cut to the width)
	pending  []byte     // a partial line given to Write, held until its newline
}

// NewConsole returns a Console writing to w (nil: nowhere), with a status
// line when terminal says w is one. When w is a terminal file, the status
// line is cut to the terminal's width, so that it never wraps: a wrapped
// status line could not be rewritten in place.
func NewConsole(w io.Writer, terminal bool) *Console {
	if w == nil {
		w = io.Discard
	}
	c := &Console{w: w, terminal: terminal, width: func() int { return 0 }}
	if f, ok := w.(interface{ Fd() uintptr }); ok && terminal {
		c.width = func() int {
			cols, _, err := term.GetSize(int(f.Fd()))
			if err != nil {
				return 0
			}
			return cols
		}
	}
	return c
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
// An empty text removes it. A text wider than the terminal is cut to fit,
// ending in "…".
func (s *Console) SetStatus(text string) {
	if !s.terminal {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	text = fit(text, s.width())
	fmt.Fprint(s.w, "\r\x1b[K"+text)
	s.status = text
}

// fit cuts text to fewer than cols columns (one column is left free so
// that the cursor never wraps); cols 0 means unknown: no cut. It counts a
// rune as one column, as the console's own texts are.
func fit(text string, cols int) string {
	if cols <= 1 || utf8.RuneCountInString(text) < cols {
		return text
	}
	var b strings.Builder
	n := 0
	for _, r := range text {
		if n == cols-2 {
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String() + "…"
}

// Write lets other code (the terminal blob reader, the --stats lines)
// print through the console, so its lines land above the status line too.
// It prints whole lines: a partial line is held until the Write that ends
// it, so that the status line is never redrawn in the middle of a line.
func (s *Console) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, p...)
	i := bytes.LastIndexByte(s.pending, '\n')
	if i < 0 {
		return len(p), nil
	}
	lines := s.pending[:i+1]
	if s.status != "" {
		fmt.Fprint(s.w, "\r\x1b[K")
	}
	_, err := s.w.Write(lines)
	if s.status != "" {
		fmt.Fprint(s.w, s.status)
	}
	s.pending = append(s.pending[:0], s.pending[i+1:]...)
	if err != nil {
		return 0, err
	}
	return len(p), nil
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
