package paste

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/signal"
)

// lineFeed hands piped input out to successive blob reads one line at a
// time, so that what one read did not need (a second answer sent later
// down the same pipe) stays for the next. One goroutine reads the input;
// it ends at the input's end or error, or when close stops it, and close
// waits for it (see input for the one reader it cannot stop).
type lineFeed struct {
	in     *input
	chunks chan []byte   // lines, or pieces of lines longer than the buffer
	stop   chan struct{} // closed by close
	ended  chan struct{} // closed when the reading goroutine has returned
	once   sync.Once

	mu      sync.Mutex
	err     error // why chunks was closed
	drained bool  // a read found chunks closed: nothing more will come
}

func newLineFeed(r io.Reader) *lineFeed {
	l := &lineFeed{in: newInput(r), chunks: make(chan []byte), stop: make(chan struct{}), ended: make(chan struct{})}
	go l.run()
	return l
}

// run reads the input into chunks until it ends or the feed is closed.
func (l *lineFeed) run() {
	defer close(l.ended)
	br := bufio.NewReaderSize(l.in, 4096)
	for {
		s, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil
		}
		if len(s) > 0 {
			select {
			case l.chunks <- append([]byte(nil), s...):
			case <-l.stop:
				return
			}
		}
		if err != nil {
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			close(l.chunks)
			return
		}
	}
}

// close stops the reading goroutine and waits for it. It may be called
// more than once.
func (l *lineFeed) close() {
	l.once.Do(func() {
		close(l.stop)
		l.in.stop()
		if l.in.interruptible() {
			<-l.ended
			l.in.release()
		}
	})
}

// done reports whether a read found the input's end: every line was
// handed out.
func (l *lineFeed) done() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.drained
}

// readBlob reads one blob of type want, by Read's rules, taking lines
// until the text taken decodes as such a blob or cannot become one; the
// lines after it stay for the next read. Text other takes instead ends it
// with an *OtherError. It returns ctx.Err() when ctx ends first, and
// errStopped once the feed is closed.
func (l *lineFeed) readBlob(ctx context.Context, want webrtc.SDPType, other *Other) (webrtc.SessionDescription, signal.Format, error) {
	var none webrtc.SessionDescription
	var buf strings.Builder
	var lastErr error = signal.ErrEmpty
	lineStart := 0 // where in buf the line being taken began
	for {
		if err := ctx.Err(); err != nil {
			return none, 0, err
		}
		var (
			chunk []byte
			ok    bool
		)
		select {
		case <-ctx.Done():
			return none, 0, ctx.Err()
		case <-l.stop:
			return none, 0, errStopped
		case chunk, ok = <-l.chunks:
		}
		if !ok {
			l.mu.Lock()
			l.drained = true
			err := l.err
			l.mu.Unlock()
			if buf.Len() > lineStart && strings.TrimSpace(buf.String()[lineStart:]) != "" {
				// The last line had no line break.
				if text := strings.TrimSpace(buf.String()); other.takes(text) {
					return none, 0, &OtherError{Text: text}
				}
				sd, f, _, err := decodeSoFar(buf.String(), want)
				if err == nil {
					return sd, f, nil
				}
				lastErr = err
			}
			if errors.Is(err, io.EOF) {
				return none, 0, lastErr
			}
			return none, 0, fmtReadErr(err)
		}
		buf.Write(chunk)
		if buf.Len() > signal.MaxBlobSize {
			return none, 0, signal.ErrTooLarge
		}
		if chunk[len(chunk)-1] != '\n' {
			continue // a piece of a long line: judge the whole line
		}
		line := buf.String()[lineStart:]
		lineStart = buf.Len()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if text := strings.TrimSpace(buf.String()); other.takes(text) {
			return none, 0, &OtherError{Text: text}
		}
		sd, f, done, err := decodeSoFar(buf.String(), want)
		if done {
			return sd, f, err
		}
		lastErr = err
	}
}

// watch reads on after this offer took its answer, until ctx is done or
// the input ends, and tells the person about every further answer: an
// offer serves one answer, so a second one is refused, not applied.
func (p *Signaler) watch(ctx context.Context) {
	if p.Remote != "" || p.RemoteOpen != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	p.stopWatch = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var err error
			if tty := p.Streams.InTerminal; tty != nil {
				_, _, err = ReadTerminal(ctx, tty, io.Discard, webrtc.SDPTypeAnswer, nil)
				if errors.Is(err, io.EOF) || ctx.Err() != nil {
					return
				}
			} else {
				if p.feed == nil {
					return
				}
				_, _, err = p.feed.readBlob(ctx, webrtc.SDPTypeAnswer, nil)
				if ctx.Err() != nil || errors.Is(err, errStopped) || (err != nil && p.feed.done()) {
					return
				}
			}
			if err == nil {
				p.notice(ErrSecondAnswer)
			}
		}
	}()
}

// Close ends what the Signaler leaves running after an exchange returns
// (the watch for further answers, which keeps a terminal in the mode
// pastes need, and the reader of piped input) and waits for it, so the
// terminal is restored when Close returns. It is safe to call more than
// once, and on any Signaler.
func (p *Signaler) Close() {
	if p.stopWatch != nil {
		p.stopWatch()
		p.stopWatch = nil
	}
	if p.feed != nil {
		p.feed.close()
	}
}

// notice reports a blob that was refused and read past.
func (p *Signaler) notice(err error) {
	if p.Notice != nil {
		p.Notice(err)
		return
	}
	p.Console.Linef("p2pcam: %v", err)
}
