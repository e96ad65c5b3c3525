package signal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pion/webrtc/v4"
)

// Read reads one blob of type want from in, a pipe or a file. Blank lines
// before the blob are skipped and a blob may be wrapped over several
// lines: Read decodes after every line and keeps reading while the text so
// far is a truncated blob. It returns the first description that decodes,
// a decoding error (as from DecodeAs) as soon as the text cannot become a
// blob, the last decoding error at EOF, or ctx.Err() when ctx is done.
//
// The read itself runs in a goroutine, so Read returns on cancellation
// even while in blocks; that goroutine ends when in's pending Read
// returns. Read buffers, so it may consume input past the blob, but never
// more than MaxBlobSize+1 bytes in all.
func Read(ctx context.Context, in io.Reader, want webrtc.SDPType) (webrtc.SessionDescription, Format, error) {
	type line struct {
		text string
		err  error
	}
	lines := make(chan line)
	done := make(chan struct{})
	defer close(done)
	go func() {
		br := bufio.NewReader(io.LimitReader(in, MaxBlobSize+1))
		for {
			s, err := br.ReadString('\n')
			select {
			case lines <- line{s, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	var none webrtc.SessionDescription
	var buf strings.Builder
	var lastErr error = ErrEmpty
	for {
		var l line
		select {
		case <-ctx.Done():
			return none, 0, ctx.Err()
		case l = <-lines:
		}
		buf.WriteString(l.text)
		if buf.Len() > MaxBlobSize {
			return none, 0, ErrTooLarge
		}
		if strings.TrimSpace(l.text) != "" {
			sd, f, done, err := decodeSoFar(buf.String(), want)
			if done {
				return sd, f, err
			}
			lastErr = err
		}
		if l.err == io.EOF {
			return none, 0, lastErr
		}
		if l.err != nil {
			return none, 0, fmt.Errorf("read blob: %w", l.err)
		}
	}
}

// decodeSoFar decodes the text of a blob read so far; done says whether
// reading stops there: it decodes (err is nil), or it can never become a
// whole blob of type want (err says why). A blob cut short is not done.
func decodeSoFar(text string, want webrtc.SDPType) (webrtc.SessionDescription, Format, bool, error) {
	sd, f, err := DecodeAs(text, want)
	if err == nil {
		return sd, f, true, nil
	}
	var te *TruncatedError
	return webrtc.SessionDescription{}, f, !errors.As(err, &te), err
}
