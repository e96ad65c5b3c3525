package paste

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/iostreams"

	"github.com/p2pcam/p2pcam/signal"
)

// golden decodes a golden blob into its session description.
func golden(t *testing.T, name string) webrtc.SessionDescription {
	t.Helper()
	sd, _, err := signal.Decode(testutil.ReadTrimmed(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sd
}

// pasteFor returns a Signaler reading in and printing to out and errOut.
func pasteFor(in io.Reader, out, errOut *bytes.Buffer) *Signaler {
	return &Signaler{
		Streams: iostreams.Streams{In: in, Out: out, Err: errOut},
		Console: iostreams.NewConsole(errOut, false),
	}
}

func TestPasteOffers(t *testing.T) {
	checkRoutines(t)
	offer, answer := golden(t, "../testdata/golden/offer-2.compact"), golden(t, "../testdata/golden/answer-2.compact")
	for _, f := range []signal.Format{signal.FormatCompact, signal.FormatPion} {
		t.Run(f.String(), func(t *testing.T) {
			var out, errOut bytes.Buffer
			p := pasteFor(strings.NewReader("\n"+testutil.ReadTrimmed(t, "../testdata/golden/answer-2.pion")+"\n"), &out, &errOut)
			p.Format = f
			defer p.Close()
			got, err := p.ExchangeOffer(deadline(t, 10*time.Second), offer)
			if err != nil {
				t.Fatalf("ExchangeOffer: %v\n%s", err, errOut.String())
			}
			if got.SDP != answer.SDP || got.Type != webrtc.SDPTypeAnswer {
				t.Errorf("returned answer differs from the pasted one")
			}
			printed, gotFormat, err := signal.Decode(out.String())
			if err != nil || printed.SDP != offer.SDP || gotFormat != f {
				t.Errorf("stdout %q decodes to format %v, err %v; want the offer in %v", out.String(), gotFormat, err, f)
			}
			for _, want := range []string{"offer blob (", "characters; candidates:", "run `p2pcam answer` on the other side", "connecting…"} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
		})
	}
}

func TestPasteAnswers(t *testing.T) {
	checkRoutines(t)
	offer := golden(t, "../testdata/golden/offer-2.compact")
	answer := golden(t, "../testdata/golden/answer-2.compact")
	// What goes back is the answer naming the offer it answers.
	tagged := golden(t, "../testdata/golden/answer-2-tagged.compact")
	tests := []struct {
		name      string
		in        string // the pasted offer
		remote    string // or the offer given up front
		blobToErr bool
		want      signal.Format // the format the answer goes back in
	}{
		{"compact offer pasted", testutil.ReadTrimmed(t, "../testdata/golden/offer-2.compact"), "", false, signal.FormatCompact},
		{"pion offer pasted", testutil.ReadTrimmed(t, "../testdata/golden/offer-2.pion"), "", false, signal.FormatPion},
		{"offer given up front", "", testutil.ReadTrimmed(t, "../testdata/golden/offer-2.compact"), false, signal.FormatCompact},
		{"stdout carries video", testutil.ReadTrimmed(t, "../testdata/golden/offer-2.compact"), "", true, signal.FormatCompact},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			// With the offer up front, In must not be read: it fails.
			var in io.Reader = strings.NewReader(tc.in)
			if tc.remote != "" {
				in = failReader{}
			}
			p := pasteFor(in, &out, &errOut)
			p.Remote, p.BlobToErr, p.Timeout = tc.remote, tc.blobToErr, time.Minute
			defer p.Close()
			var seen webrtc.SessionDescription
			err := p.ExchangeAnswer(deadline(t, 10*time.Second), func(_ context.Context, o webrtc.SessionDescription) (webrtc.SessionDescription, error) {
				seen = o
				return answer, nil
			})
			if err != nil {
				t.Fatalf("ExchangeAnswer: %v\n%s", err, errOut.String())
			}
			if seen.SDP != offer.SDP {
				t.Errorf("makeAnswer got another offer than the one pasted")
			}
			blobs := out.String()
			if tc.blobToErr {
				if out.Len() != 0 {
					t.Errorf("stdout carries video, yet the blob went there: %q", out.String())
				}
				blobs = errOut.String()
			}
			var printed string
			for _, l := range strings.Split(blobs, "\n") {
				if _, _, err := signal.Decode(l); err == nil {
					printed = l
				}
			}
			sd, f, err := signal.Decode(printed)
			if err != nil || sd.SDP != tagged.SDP || f != tc.want {
				t.Errorf("printed answer: format %v, err %v; want the answer in %v\n%s", f, err, tc.want, blobs)
			}
			if !strings.Contains(errOut.String(), "paste the answer blob into `p2pcam offer` on the other side\n") {
				t.Errorf("stderr lacks the instruction:\n%s", errOut.String())
			}
			if p.AnswerWindow() != time.Minute {
				t.Errorf("AnswerWindow %s; want the paste timeout", p.AnswerWindow())
			}
		})
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("In was read") }

func TestPasteFailures(t *testing.T) {
	checkRoutines(t)
	offer := golden(t, "../testdata/golden/offer-2.compact")
	never := silentPipe(t)
	tests := []struct {
		name  string
		in    io.Reader
		want  string
		check func(error) bool
	}{
		{"nothing pasted in time", never, "no blob from the other side: the answer blob did not arrive within 200ms",
			func(err error) bool { return errors.Is(err, ErrPasteTimeout) }},
		{"an offer pasted where the answer belongs", strings.NewReader(testutil.ReadTrimmed(t, "../testdata/golden/offer-4.compact") + "\n"),
			"this is an offer blob; an answer blob belongs here", func(err error) bool { var te *signal.TypeError; return errors.As(err, &te) }},
		{"not a blob", strings.NewReader("hello\n"), "does not look like a p2pcam or WebRTC blob",
			func(err error) bool { return errors.Is(err, signal.ErrNotBlob) }},
		{"end of input", strings.NewReader(""), "no blob: the input is empty",
			func(err error) bool { return errors.Is(err, signal.ErrEmpty) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			p := pasteFor(tc.in, &out, &errOut)
			p.Timeout = 200 * time.Millisecond
			_, err := p.ExchangeOffer(deadline(t, 10*time.Second), offer)
			p.Close()
			if err == nil || err.Error() != tc.want || !tc.check(err) {
				t.Fatalf("got %v; want %q", err, tc.want)
			}
		})
	}
}

// TestPasteCancelled: cancelling while waiting for the paste returns the
// context's error at once, not a paste timeout.
func TestPasteCancelled(t *testing.T) {
	checkRoutines(t)
	var out, errOut bytes.Buffer
	p := pasteFor(silentPipe(t), &out, &errOut)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := p.ExchangeOffer(ctx, golden(t, "../testdata/golden/offer-2.compact"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrPasteTimeout) {
		t.Fatalf("got %v; want context.Canceled", err)
	}
}

// silentPipe returns the read end of a pipe (a file, as stdin is) whose
// writer stays open and silent until the test ends.
func silentPipe(t *testing.T) *os.File {
	t.Helper()
	r, _ := openPipe(t)
	return r
}

// TestCloseEndsThePipeReader: Close ends the goroutine that reads piped
// input while the pipe's writer is still open and silent, with a line
// read ahead that no one took (the reader once blocked for ever handing
// it over), and with nothing to read at all.
func TestCloseEndsThePipeReader(t *testing.T) {
	offer := golden(t, "../testdata/golden/offer-2.compact")
	tagged := testutil.ReadTrimmed(t, "../testdata/golden/answer-2-tagged.compact")
	tests := []struct {
		name  string
		lines string // written before the exchange
	}{
		{"nothing written", ""},
		{"an answer, then a line no one reads", tagged + "\nhello\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := test.CheckRoutines(t)
			r, w := openPipe(t)
			if _, err := w.WriteString(tc.lines); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			p := pasteFor(r, &out, &errOut)
			p.Timeout = 100 * time.Millisecond
			_, _ = p.ExchangeOffer(deadline(t, 10*time.Second), offer)
			closed := make(chan struct{})
			go func() { p.Close(); close(closed) }()
			select {
			case <-closed:
			case <-deadline(t, 10*time.Second).Done():
				t.Fatal("Close did not return while the pipe stayed open")
			}
			check() // the writer is still open
		})
	}
}

func TestDescribeCandidates(t *testing.T) {
	sdp := "v=0\r\na=candidate:1 1 udp 2130706431 10.0.0.2 5000 typ host\r\n" +
		"a=candidate:1 2 udp 2130706431 10.0.0.2 5001 typ host\r\n" +
		"a=candidate:2 1 udp 1694498815 203.0.113.9 6000 typ srflx raddr 10.0.0.2 rport 5000\r\n" +
		"a=candidate:3 1 udp 16777215 198.51.100.1 7000 typ relay raddr 203.0.113.9 rport 6000\r\n"
	if got, want := DescribeCandidates(sdp), "candidates: 1 host, 1 srflx, 1 relay"; got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
	if got := DescribeCandidates("v=0\r\n"); !strings.HasPrefix(got, "no candidates") {
		t.Fatalf("got %q", got)
	}
}

// TestPasteSaysWhenNoServerAnswered: with STUN servers configured, an offer
// with host candidates only says so before the person carries it.
func TestPasteSaysWhenNoServerAnswered(t *testing.T) {
	checkRoutines(t)
	withSrflx := golden(t, "../testdata/golden/offer-2.compact")
	hostOnly := withSrflx
	var kept []string
	for _, l := range strings.Split(hostOnly.SDP, "\r\n") {
		if !strings.Contains(l, " typ srflx") {
			kept = append(kept, l)
		}
	}
	hostOnly.SDP = strings.Join(kept, "\r\n")
	const warning = "no answer from stun:stun.example.org:3478: only local addresses are offered, so this works on the same network only"
	tests := []struct {
		name  string
		offer webrtc.SessionDescription
		stun  []string
		warn  bool
	}{
		{"host only, STUN given", hostOnly, []string{"stun:stun.example.org:3478"}, true},
		{"srflx gathered", withSrflx, []string{"stun:stun.example.org:3478"}, false},
		{"no STUN asked for", hostOnly, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			p := pasteFor(strings.NewReader(""), &out, &errOut)
			p.STUN = tc.stun
			defer p.Close()
			_, _ = p.ExchangeOffer(deadline(t, 5*time.Second), tc.offer)
			if got := strings.Contains(errOut.String(), warning+"\n"); got != tc.warn {
				t.Errorf("warning shown: %v; want %v\n%s", got, tc.warn, errOut.String())
			}
		})
	}
}

// TestPasteOfferRefusesMixups: an answer made for another offer is refused
// before it is applied; a second answer down the same pipe, once the
// offer has one, is reported through Notice and not returned.
func TestPasteOfferRefusesMixups(t *testing.T) {
	checkRoutines(t)
	offer := golden(t, "../testdata/golden/offer-2.compact")
	other := offer
	other.SDP = strings.ReplaceAll(offer.SDP, "kQvTzRbNwHmLpXcY", "Zz9TzRbNwHmLpXcY")
	tagged := testutil.ReadTrimmed(t, "../testdata/golden/answer-2-tagged.compact")
	plain := testutil.ReadTrimmed(t, "../testdata/golden/answer-2.pion")
	tests := []struct {
		name    string
		offer   webrtc.SessionDescription
		in      string
		wantErr error
		notices int // ErrSecondAnswer notices
	}{
		{"its own answer", offer, tagged + "\n", nil, 0},
		{"answer for another offer", other, tagged + "\n", signal.ErrOtherOffer, 0},
		{"untagged answer for any offer", other, plain + "\n", nil, 0},
		{"second answer in the same write", offer, tagged + "\n" + tagged + "\n", nil, 1},
		{"second and third answers, junk between", offer, tagged + "\n\nhello\n" + plain + "\n" + tagged + "\n", nil, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			p := pasteFor(strings.NewReader(tc.in), &out, &errOut)
			notices := make(chan error, 10)
			p.Notice = func(err error) { notices <- err }
			ctx := deadline(t, 10*time.Second)
			_, err := p.ExchangeOffer(ctx, tc.offer)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("ExchangeOffer: %v; want %v", err, tc.wantErr)
			}
			for i := 0; i < tc.notices; i++ {
				select {
				case n := <-notices:
					if !errors.Is(n, ErrSecondAnswer) {
						t.Errorf("notice %v; want ErrSecondAnswer", n)
					}
				case <-ctx.Done():
					t.Fatalf("got %d notices; want %d", i, tc.notices)
				}
			}
			p.Close()
			p.Close()
			if len(notices) != 0 {
				t.Errorf("%d notices more than %d", len(notices), tc.notices)
			}
		})
	}
}
