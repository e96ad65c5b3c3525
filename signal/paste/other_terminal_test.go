//go:build linux

package paste

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
)

// noAnswer is a makeAnswer that must not be called.
func noAnswer(t *testing.T) func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	return func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error) {
		t.Error("makeAnswer was called")
		return webrtc.SessionDescription{}, errors.New("no")
	}
}

// TestOtherAtTheTerminal: typed at the prompt, which names it, the Other
// ends the read; a bad paste before it is refused as ever.
func TestOtherAtTheTerminal(t *testing.T) {
	checkRoutines(t)
	ctx := deadline(t, 20*time.Second)
	master, tty := startPTY(t)
	errOut := newLineSink()
	p := &Signaler{
		Streams: iostreams.Streams{In: tty, InTerminal: tty, Out: &bytes.Buffer{}, Err: errOut},
		Console: iostreams.NewConsole(errOut, false),
		Hints:   hintsForTest,
		Other:   codeLike(),
	}
	defer p.Close()
	res := make(chan error, 1)
	go func() { res <- p.ExchangeAnswer(ctx, noAnswer(t)) }()
	const prompt = "Paste the offer blob, or type the code, and press Enter:"
	errOut.await(ctx, t, prompt)
	if _, err := master.WriteString("hello there\r"); err != nil {
		t.Fatal(err)
	}
	if got := errOut.await(ctx, t, ""); got != "p2pcam: bad blob: does not look like a p2pcam or WebRTC blob" {
		t.Fatalf("errOut line %q", got)
	}
	errOut.await(ctx, t, prompt)
	if _, err := master.WriteString("7-guitarist-revneg\x7f\x7f\x7fenge\r"); err != nil {
		t.Fatal(err)
	}
	var oe *OtherError
	select {
	case err := <-res:
		if !errors.As(err, &oe) || oe.Text != "7-guitarist-revenge" {
			t.Fatalf("got %v; want an OtherError with the code", err)
		}
	case <-ctx.Done():
		t.Fatal("ExchangeAnswer did not return")
	}
	assertCanonical(t, tty)
}
