//go:build linux || darwin || freebsd || netbsd || openbsd

package paste

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"
	"golang.org/x/sys/unix"

	"github.com/p2pcam/p2pcam/signal"
)

// Escape sequences for bracketed paste mode (xterm): enable, disable, and
// the markers a terminal puts around pasted text.
const (
	pasteOn    = "\x1b[?2004h"
	pasteOff   = "\x1b[?2004l"
	pasteStart = "[200~"
	pasteEnd   = "[201~"
)

// ReadTerminal reads one blob of type want from the terminal tty, where a
// human pastes it. It takes the terminal out of canonical mode (so a paste
// is not cut at 4095 or 1024 characters) with echo off and signals still
// on (Ctrl-C keeps raising SIGINT: the caller must turn it into ctx
// cancellation), and enables bracketed paste. The terminal's state is
// restored on every return.
//
// Prompts, progress and errors go to errOut. ReadTerminal reads until the
// text decodes (line wraps, paste markers and whitespace are ignored).
// When a paste ends, or Enter is pressed, on text that is a bad blob, it
// prints the one-line error, a hint line for each piece of advice hints
// gives for it (hints may be nil), and prompts again; a truncated blob waits for
// the rest, and Enter on an empty line discards it. Backspace and Ctrl-U
// edit. It returns only on success, when ctx is done (ctx.Err()), on
// Ctrl-D or end of input (io.EOF), or when the terminal fails.
func ReadTerminal(ctx context.Context, tty *os.File, errOut io.Writer, want webrtc.SDPType, hints func(error) []string) (webrtc.SessionDescription, signal.Format, error) {
	return readTerminal(ctx, tty, errOut, want, hints, nil)
}

// readTerminal is ReadTerminal that also takes what other takes, typed or
// pasted instead of a blob, returning an *OtherError with it.
func readTerminal(ctx context.Context, tty *os.File, errOut io.Writer, want webrtc.SDPType, hints func(error) []string, other *Other) (webrtc.SessionDescription, signal.Format, error) {
	var none webrtc.SessionDescription
	rc, err := tty.SyscallConn()
	if err != nil {
		return none, 0, fmt.Errorf("read blob from terminal: %w", err)
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return none, 0, fmt.Errorf("read blob from terminal: %w", err)
	}
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return none, 0, fmt.Errorf("read blob from terminal: not a terminal: %w", err)
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO
	raw.Lflag |= unix.ISIG
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &raw); err != nil {
		return none, 0, fmt.Errorf("read blob from terminal: %w", err)
	}
	defer func() { _ = unix.IoctlSetTermios(fd, ioctlSetTermios, old) }()
	_, _ = io.WriteString(tty, pasteOn)
	defer func() { _, _ = io.WriteString(tty, pasteOff) }()

	// A pipe wakes poll when ctx is done.
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return none, 0, fmt.Errorf("read blob from terminal: %w", err)
	}
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			_, _ = unix.Write(p[1], []byte{0})
		case <-done:
		}
	}()
	defer func() {
		close(done)
		wg.Wait()
		unix.Close(p[0])
		unix.Close(p[1])
	}()

	r := termReader{errOut: errOut, want: want, hints: hints, other: other}
	r.prompt()
	buf := make([]byte, 4096)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(p[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return none, 0, fmt.Errorf("read blob from terminal: %w", err)
		}
		if fds[1].Revents != 0 {
			return none, 0, ctx.Err()
		}
		if fds[0].Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) == 0 {
			continue
		}
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN):
			continue
		case errors.Is(err, unix.EIO) || (err == nil && n == 0):
			return none, 0, io.EOF // hangup
		case err != nil:
			return none, 0, fmt.Errorf("read blob from terminal: %w", err)
		}
		if sd, f, ok, err := r.feed(buf[:n]); ok || err != nil {
			if ok && r.taken != "" {
				return none, 0, &OtherError{Text: r.taken}
			}
			return sd, f, err
		}
	}
}

// QuietTerminal turns off the echo of the terminal tty until restore is
// called, for a program that shows a status line on it and reads nothing
// more: keys pressed meanwhile, such as the Enter people press after a
// paste (as the prompt asks) once the blob was taken, would otherwise be
// echoed and push the status line down, leaving a stale copy above it.
// Signals stay on, so Ctrl-C still interrupts. ReadTerminal works inside
// a quiet spell and returns to it. restore puts back the terminal's
// settings and discards what was typed meanwhile, so that no stray Enter
// reaches the shell either. When tty is not a terminal, or this process
// runs in the background of it, QuietTerminal does nothing and restore is
// a no-op.
func QuietTerminal(tty *os.File) (restore func()) {
	fd := -1
	if rc, err := tty.SyscallConn(); err == nil {
		_ = rc.Control(func(u uintptr) { fd = int(u) })
	}
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return func() {}
	}
	// A job in the background (p2pcam ... &) must leave the terminal
	// alone: changing its settings would stop the job (SIGTTOU). (A
	// terminal that is not this process's controlling one has no
	// foreground group for it, and no such signal.)
	if pg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil && pg != unix.Getpgrp() {
		return func() {}
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO | unix.ECHONL
	quiet.Lflag |= unix.ISIG
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &quiet); err != nil {
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() { _ = unix.IoctlSetTermios(fd, ioctlSetTermiosFlush, old) })
	}
}

// termReader is ReadTerminal's line discipline: it accumulates pasted
// text, strips escape sequences and decides when to decode.
type termReader struct {
	errOut  io.Writer
	want    webrtc.SDPType
	hints   func(error) []string // nil: no advice
	other   *Other               // nil: blobs only
	taken   string               // the text other took, once it did
	text    []byte
	esc     []byte // an escape sequence in progress, ESC excluded
	inEsc   bool
	inPaste bool
	pasteAt int  // where in text the last bracketed paste began
	newline bool // the last byte taken was a line break
}

func (r *termReader) prompt() {
	if r.other != nil {
		fmt.Fprintf(r.errOut, "Paste the %s blob, or type %s, and press Enter:\n", r.want, r.other.Name)
		return
	}
	fmt.Fprintf(r.errOut, "Paste the %s blob and press Enter:\n", r.want)
}

// feed takes one chunk read from the terminal. ok reports a decoded blob.
func (r *termReader) feed(chunk []byte) (sd webrtc.SessionDescription, f signal.Format, ok bool, err error) {
	for i, c := range chunk {
		last := i == len(chunk)-1
		if r.inEsc {
			r.esc = append(r.esc, c)
			if len(r.esc) == 1 && c != '[' || len(r.esc) > 1 && c >= 0x40 && c <= 0x7e || len(r.esc) > 16 {
				r.inEsc = false
				switch string(r.esc) {
				case pasteStart:
					r.inPaste = true
					r.pasteAt = len(r.text)
				case pasteEnd:
					r.inPaste = false
					// The paste's own last line break is no empty line.
					r.newline = false
					if sd, f, ok := r.evaluate(false, last); ok {
						return sd, f, true, nil
					}
				}
			}
			continue
		}
		switch c {
		case 0x1b:
			r.inEsc, r.esc = true, r.esc[:0]
		case 0x04: // Ctrl-D
			if sd, f, ok := r.evaluate(false, true); ok {
				return sd, f, true, nil
			}
			return sd, f, false, io.EOF
		case 0x7f, 0x08: // Backspace: one character, not one byte of it
			_, n := utf8.DecodeLastRune(r.text)
			r.text = r.text[:len(r.text)-n]
		case 0x15: // Ctrl-U
			r.text, r.pasteAt = r.text[:0], 0
		case '\r', '\n':
			if r.inPaste {
				r.text = append(r.text, '\n')
				r.newline = true
				continue
			}
			if sd, f, ok := r.evaluate(true, last); ok {
				return sd, f, true, nil
			}
			r.newline = true
			continue
		default:
			if c < 0x20 && c != '\t' {
				continue
			}
			if len(r.text) >= signal.MaxBlobSize {
				r.fail(signal.ErrTooLarge)
				continue
			}
			r.text = append(r.text, c)
		}
		r.newline = false
	}
	// A paste without markers may end without a line break.
	if !r.inPaste && !r.inEsc && strings.TrimSpace(string(r.text)) != "" {
		r.newBlob()
		if sd, f, err := signal.DecodeAs(string(r.text), r.want); err == nil {
			r.done(len(r.text), f)
			return sd, f, true, nil
		}
	}
	return sd, f, false, nil
}

// evaluate decodes the text at a paste end, at Enter (enter) or at
// Ctrl-D. quiet is false when no more input is pending in this chunk,
// meaning a human is waiting for feedback.
func (r *termReader) evaluate(enter, idle bool) (webrtc.SessionDescription, signal.Format, bool) {
	if strings.TrimSpace(string(r.text)) == "" {
		r.text, r.pasteAt = r.text[:0], 0
		return webrtc.SessionDescription{}, 0, false
	}
	if text := strings.TrimSpace(string(r.text)); r.other.takes(text) {
		r.taken = text
		return webrtc.SessionDescription{}, 0, true
	}
	r.newBlob()
	sd, f, err := signal.DecodeAs(string(r.text), r.want)
	if err == nil {
		r.done(len(r.text), f)
		return sd, f, true
	}
	var te *signal.TruncatedError
	switch {
	case errors.As(err, &te) && enter && r.newline:
		// Enter on an empty line: give up on this one.
		r.fail(err)
	case errors.As(err, &te):
		r.text = append(r.text, '\n')
		if idle {
			fmt.Fprintf(r.errOut, "got %d characters: the blob is cut short; paste the rest, or the whole blob again (Enter on an empty line starts over)\n", te.Len)
		}
	case enter && !idle:
		// More input follows in this chunk: a paste with line breaks
		// but no markers. Judge it when it ends.
		r.text = append(r.text, '\n')
	default:
		r.fail(err)
	}
	return webrtc.SessionDescription{}, 0, false
}

// newBlob drops the half blob a new paste replaces: everything before the
// last "p2pcam1:" or "p2pcam2:" (no p2pcam blob holds a prefix inside
// it), or, for other formats, everything before the last bracketed paste
// when the text with it cannot become a blob but the paste alone can. It
// says how much it dropped.
func (r *termReader) newBlob() {
	cut := 0
	if i := max(bytes.LastIndex(r.text, []byte(signal.CompactPrefix)), bytes.LastIndex(r.text, []byte(signal.CompactPrefixV2))); i > 0 {
		cut = i
	} else if r.pasteAt > 0 && r.pasteAt < len(r.text) {
		if _, _, err := signal.DecodeAs(string(r.text), r.want); err != nil && !isTruncated(err) {
			if _, _, err := signal.DecodeAs(string(r.text[r.pasteAt:]), r.want); err == nil || isTruncated(err) {
				cut = r.pasteAt
			}
		}
	}
	if cut == 0 {
		return
	}
	if n := blobChars(r.text[:cut]); n > 0 {
		fmt.Fprintf(r.errOut, "a new blob: dropped the %d characters pasted before it\n", n)
	}
	r.text = append(r.text[:0], r.text[cut:]...)
	r.pasteAt = 0
}

// blobChars counts the characters of text that could be part of a blob:
// all but whitespace.
func blobChars(text []byte) int {
	n := 0
	for _, c := range string(text) {
		if !unicode.IsSpace(c) {
			n++
		}
	}
	return n
}

func isTruncated(err error) bool {
	var te *signal.TruncatedError
	return errors.As(err, &te)
}

func (r *termReader) fail(err error) {
	fmt.Fprintf(r.errOut, "p2pcam: bad blob: %v\n", err)
	if r.hints != nil {
		for _, h := range r.hints(err) {
			fmt.Fprintf(r.errOut, "p2pcam: hint: %s\n", h)
		}
	}
	r.text, r.pasteAt = r.text[:0], 0
	r.prompt()
}

func (r *termReader) done(n int, f signal.Format) {
	fmt.Fprintf(r.errOut, "Got the %s (%d characters, %s format).\n", r.want, n, f)
}
