package paste

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/signal"
)

// Read reads one blob of type want from in, a pipe or a file. Blank lines
// before the blob are skipped and a blob may be wrapped over several
// lines: Read decodes after every line and keeps reading while the text so
// far is a truncated blob. It returns the first description that decodes,
// a decoding error (as from signal.DecodeAs) as soon as the text cannot
// become a blob, the last decoding error at EOF, or ctx.Err() when ctx is
// done.
//
// Read returns on cancellation even while in blocks, and the goroutine it
// reads in with has ended by then when in is a file (stdin, a named pipe:
// its reads are polled); another reader's pending Read is waited for by
// nothing, and that goroutine ends when it returns. Read buffers, so it
// may consume input past the blob, but never more than a line (or 4 KiB)
// past it, nor more than signal.MaxBlobSize plus 4 KiB in all.
func Read(ctx context.Context, in io.Reader, want webrtc.SDPType) (webrtc.SessionDescription, signal.Format, error) {
	l := newLineFeed(in)
	defer l.close()
	return l.readBlob(ctx, want, nil)
}

// fmtReadErr words an error reading the input.
func fmtReadErr(err error) error { return fmt.Errorf("read blob: %w", err) }

// decodeSoFar decodes the text of a blob read so far; done says whether
// reading stops there: it decodes (err is nil), or it can never become a
// whole blob of type want (err says why). A blob cut short is not done.
func decodeSoFar(text string, want webrtc.SDPType) (webrtc.SessionDescription, signal.Format, bool, error) {
	sd, f, err := signal.DecodeAs(text, want)
	if err == nil {
		return sd, f, true, nil
	}
	var te *signal.TruncatedError
	return webrtc.SessionDescription{}, f, !errors.As(err, &te), err
}
