package signal

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/pion/webrtc/v4"
)

// lineFeed hands piped input out to successive blob reads one line at a
// time, so that what one read did not need (a second answer sent later
// down the same pipe) stays for the next. A single goroutine reads the
// input; it ends at the input's end or error, as a read of a pipe can be
// stopped by nothing else.
type lineFeed struct {
	chunks chan []byte // lines, or pieces of lines longer than the buffer
	mu     sync.Mutex
	held   []byte // the unread part of a chunk
	err    error  // why chunks was closed
	ended  bool
}

func newLineFeed(in io.Reader) *lineFeed {
	l := &lineFeed{chunks: make(chan []byte)}
	go func() {
		br := bufio.NewReaderSize(in, 4096)
		for {
			s, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				err = nil
			}
			if len(s) > 0 {
				l.chunks <- append([]byte(nil), s...)
			}
			if err != nil {
				l.mu.Lock()
				l.err, l.ended = err, true
				l.mu.Unlock()
				close(l.chunks)
				return
			}
		}
	}()
	return l
}

// done reports whether the input has ended and every line was handed out.
func (l *lineFeed) done() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended && len(l.held) == 0 && len(l.chunks) == 0
}

// blob returns a reader for one Read of a blob of type want: it hands out
// lines until the text handed out decodes as such a blob, or cannot become
// one, then reports io.EOF without taking another line, which is left for
// the next reader.
func (l *lineFeed) blob(want webrtc.SDPType) io.Reader {
	return &blobReader{feed: l, want: want}
}

type blobReader struct {
	feed  *lineFeed
	want  webrtc.SDPType
	given []byte
}

func (r *blobReader) Read(p []byte) (int, error) {
	if r.complete() {
		return 0, io.EOF
	}
	l := r.feed
	l.mu.Lock()
	chunk := l.held
	l.held = nil
	l.mu.Unlock()
	if len(chunk) == 0 {
		c, ok := <-l.chunks
		if !ok {
			l.mu.Lock()
			defer l.mu.Unlock()
			return 0, l.err
		}
		chunk = c
	}
	n := copy(p, chunk)
	if n < len(chunk) {
		l.mu.Lock()
		l.held = append(chunk[n:len(chunk):len(chunk)], l.held...)
		l.mu.Unlock()
	}
	if len(r.given) < MaxBlobSize+1 {
		r.given = append(r.given, p[:n]...)
	}
	return n, nil
}

// complete reports whether the text handed out so far ends Read, by
// Read's own rule (decodeSoFar).
func (r *blobReader) complete() bool {
	if strings.TrimSpace(string(r.given)) == "" {
		return false
	}
	_, _, done, _ := decodeSoFar(string(r.given), r.want)
	return done
}

// watch reads on after this offer took its answer, until ctx is done or
// the input ends, and tells the person about every further answer: an
// offer serves one answer, so a second one is refused, not applied.
func (p *Paste) watch(ctx context.Context) {
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
				_, _, err = ReadTerminal(ctx, tty, io.Discard, webrtc.SDPTypeAnswer)
				if errors.Is(err, io.EOF) || ctx.Err() != nil {
					return
				}
			} else {
				if p.feed == nil {
					return
				}
				_, _, err = Read(ctx, p.feed.blob(webrtc.SDPTypeAnswer), webrtc.SDPTypeAnswer)
				if ctx.Err() != nil || (err != nil && p.feed.done()) {
					return
				}
			}
			if err == nil {
				p.notice(ErrSecondAnswer)
			}
		}
	}()
}

// Close ends what ExchangeOffer leaves running after it returns (the
// watch for further answers, which keeps a terminal in the mode pastes
// need) and waits for it, so the terminal is restored when Close returns.
// It is safe to call more than once, and on any Paste.
func (p *Paste) Close() {
	if p.stopWatch != nil {
		p.stopWatch()
		p.stopWatch = nil
	}
}

// notice reports a blob that was refused and read past.
func (p *Paste) notice(err error) {
	if p.Notice != nil {
		p.Notice(err)
		return
	}
	p.Console.Linef("p2pcam: %v", err)
}
