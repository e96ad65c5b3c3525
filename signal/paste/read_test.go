package paste

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/signal"
)

// wrap cuts s into lines of n characters joined by sep.
func wrap(s string, n int, sep string) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), sep)
}

func TestRead(t *testing.T) {
	checkRoutines(t)
	compact := testutil.ReadTrimmed(t, "../testdata/golden/offer-4.compact")
	pion := testutil.ReadTrimmed(t, "../testdata/golden/offer-8.pion")
	json := testutil.ReadTrimmed(t, "../testdata/golden/offer-2.json")
	tests := []struct {
		name   string
		in     string
		want   signal.Format
		errMsg string
	}{
		{"one line", compact + "\n", signal.FormatCompact, ""},
		{"no final newline", compact, signal.FormatCompact, ""},
		{"blank lines first", "\n\r\n  \n" + compact + "\n", signal.FormatCompact, ""},
		{"compact wrapped", wrap(compact, 60, "\n") + "\n", signal.FormatCompact, ""},
		{"pion wrapped crlf", wrap(pion, 76, "\r\n") + "\r\n", signal.FormatPion, ""},
		{"json", json + "\n", signal.FormatJSON, ""},
		{"text after the blob is ignored", compact + "\nsomething else\n", signal.FormatCompact, ""},
		{"empty", "", 0, "no blob: the input is empty"},
		{"junk", "hello\n" + compact + "\n", 0, "does not look like a p2pcam or WebRTC blob"},
		{"eof inside the blob", compact[:100] + "\n", 0, "blob is truncated: got only 100 characters"},
		{"wrong type", testutil.ReadTrimmed(t, "../testdata/golden/answer-2.compact") + "\n", 0, "this is an answer blob; an offer blob belongs here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, f, err := Read(deadline(t, 10*time.Second), strings.NewReader(tt.in), webrtc.SDPTypeOffer)
			if tt.errMsg != "" {
				if err == nil || err.Error() != tt.errMsg {
					t.Fatalf("got error %v, want %q", err, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f != tt.want || sd.Type != webrtc.SDPTypeOffer || !strings.HasPrefix(sd.SDP, "v=0") {
				t.Errorf("got %s %s", f, sd.Type)
			}
		})
	}
}

// TestReadCancel: Read returns ctx's error on cancellation while the
// input blocks after half a blob (a truncated blob, on which reading goes
// on), and the goroutine reading the pipe ends before Read returns,
// though the pipe's writer stays open.
func TestReadCancel(t *testing.T) {
	compact := testutil.ReadTrimmed(t, "../testdata/golden/offer-4.compact")
	check := test.CheckRoutines(t)
	r, w := openPipe(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, err := Read(ctx, r, webrtc.SDPTypeOffer)
		errc <- err
	}()
	// Half a blob arrives, then nothing. Whether Read takes it before
	// the cancel or not, a truncated blob never ends the read.
	if _, err := w.WriteString(compact[:100] + "\n"); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-deadline(t, 10*time.Second).Done():
		t.Fatal("Read did not return after cancel")
	}
	check() // the writer is still open
}

// TestReadTooLarge: 10 MB of input is refused once past the largest blob,
// without reading it all.
func TestReadTooLarge(t *testing.T) {
	checkRoutines(t)
	huge := &countingReader{r: strings.NewReader(strings.Repeat("QUFB", 10<<20/4))}
	_, _, err := Read(t.Context(), huge, webrtc.SDPTypeOffer)
	if !errors.Is(err, signal.ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
	if n := huge.n.Load(); n > 2*signal.MaxBlobSize {
		t.Errorf("read %d bytes, want at most %d", n, 2*signal.MaxBlobSize)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
