package signal

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
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
	compact := readFile(t, "testdata/golden/offer-4.compact")
	pion := readFile(t, "testdata/golden/offer-8.pion")
	json := readFile(t, "testdata/golden/offer-2.json")
	tests := []struct {
		name   string
		in     string
		want   Format
		errMsg string
	}{
		{"one line", compact + "\n", FormatCompact, ""},
		{"no final newline", compact, FormatCompact, ""},
		{"blank lines first", "\n\r\n  \n" + compact + "\n", FormatCompact, ""},
		{"compact wrapped", wrap(compact, 60, "\n") + "\n", FormatCompact, ""},
		{"pion wrapped crlf", wrap(pion, 76, "\r\n") + "\r\n", FormatPion, ""},
		{"json", json + "\n", FormatJSON, ""},
		{"text after the blob is ignored", compact + "\nsomething else\n", FormatCompact, ""},
		{"empty", "", 0, "no blob: the input is empty"},
		{"junk", "hello\n" + compact + "\n", 0, "does not look like a p2pcam or WebRTC blob"},
		{"eof inside the blob", compact[:100] + "\n", 0, "blob is truncated: got only 100 characters"},
		{"wrong type", readFile(t, "testdata/golden/answer-2.compact") + "\n", 0, "this is an answer blob; an offer blob belongs here"},
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

// TestReadCancel checks Read returns on cancellation while the reader
// blocks, and that the reading goroutine ends once the reader returns.
func TestReadCancel(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, err := Read(ctx, pr, webrtc.SDPTypeOffer)
		errc <- err
	}()
	// Half a blob arrives, then nothing.
	if _, err := pw.Write([]byte("p2pcam1:AAAA\n")); err != nil {
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
	_ = pw.Close()
}
