//go:build linux

package paste

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/pion/webrtc/v4"
	"golang.org/x/sys/unix"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/signal"
)

// lineSink is an errOut that hands each complete line to a channel.
type lineSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLineSink() *lineSink { return &lineSink{lines: make(chan string, 1000)} }

func (s *lineSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		line, err := s.buf.ReadString('\n')
		if err != nil {
			s.buf.WriteString(line) // keep the partial line
			return len(p), nil
		}
		s.lines <- strings.TrimSuffix(line, "\n")
	}
}

// await returns the next line containing want, failing at ctx's end.
func (s *lineSink) await(ctx context.Context, t *testing.T, want string) string {
	t.Helper()
	for {
		select {
		case l := <-s.lines:
			if strings.Contains(l, want) {
				return l
			}
		case <-ctx.Done():
			t.Fatalf("no line containing %q on errOut", want)
		}
	}
}

// hintsForTest is ReadTerminal's advice in tests: one line naming the
// error, so that a test sees which error was advised on.
func hintsForTest(err error) []string { return []string{"advice on: " + err.Error()} }

type termResult struct {
	sd  webrtc.SessionDescription
	f   signal.Format
	err error
}

// startPTY opens a pty and returns its master and tty ends.
func startPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { _ = master.Close(); _ = tty.Close() })
	// Drain what ReadTerminal writes to the terminal (paste mode toggles).
	go func() { _, _ = io.Copy(io.Discard, master) }()
	return master, tty
}

// readOfferOnPTY runs ReadTerminal for an offer, under ctx, on a new
// pty's tty end; it returns the master end to type into, the tty end,
// what ReadTerminal writes on its error stream, and where its result
// arrives.
func readOfferOnPTY(ctx context.Context, t *testing.T) (master, tty *os.File, errOut *lineSink, res <-chan termResult) {
	t.Helper()
	master, tty = startPTY(t)
	errOut = newLineSink()
	done := make(chan termResult, 1)
	go func() {
		sd, f, err := ReadTerminal(ctx, tty, errOut, webrtc.SDPTypeOffer, hintsForTest)
		done <- termResult{sd, f, err}
	}()
	return master, tty, errOut, done
}

// bigPionBlob returns a pion-format offer of more than 6,000 characters,
// longer than any terminal line in canonical mode.
func bigPionBlob(t *testing.T) string {
	sdp := testutil.ReadTrimmed(t, "../testdata/sdp/offer-8.sdp") + "\r\n"
	var extra strings.Builder
	for i := range 16 {
		fmt.Fprintf(&extra, "a=candidate:%d 1 udp 2130706431 10.9.%d.1 %d typ host ufrag kQvTzRbNwHmLpXcY generation 0\r\n", 1000+i, i, 40000+i)
	}
	sdp = strings.Replace(sdp, "a=end-of-candidates\r\n", extra.String()+"a=end-of-candidates\r\n", 1)
	js, err := json.Marshal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp})
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(js)
	if len(blob) < 6000 {
		t.Fatalf("blob is only %d characters", len(blob))
	}
	return blob
}

func TestReadTerminal(t *testing.T) {
	checkRoutines(t)
	compact := testutil.ReadTrimmed(t, "../testdata/golden/offer-4.compact")
	type step struct {
		paste  string // written to the terminal
		expect string // then a line on errOut equal to this, if set
	}
	pion := testutil.ReadTrimmed(t, "../testdata/golden/offer-4.pion")
	withSound := testutil.ReadTrimmed(t, "../testdata/golden/offer-av.compact")
	const prompt = "Paste the offer blob and press Enter:"
	const cutShort = "got 100 characters: the blob is cut short; paste the rest, or the whole blob again (Enter on an empty line starts over)"
	tests := []struct {
		name  string
		steps []step
		want  signal.Format
	}{
		{"6000-character pion blob, bracketed", []step{{"\x1b[200~" + bigPionBlob(t) + "\x1b[201~", ""}}, signal.FormatPion},
		{"compact blob wrapped over lines", []step{{wrap(compact, 50, "\r") + "\r", ""}}, signal.FormatCompact},
		{"compact blob wrapped, bracketed", []step{{"\x1b[200~" + wrap(compact, 50, "\n") + "\n\x1b[201~", ""}}, signal.FormatCompact},
		{"copied from a chat, with its full stop", []step{{"\x1b[200~“" + compact + "”.\x1b[201~", ""}}, signal.FormatCompact},
		{"a non-ASCII slip erased with one backspace", []step{{compact[:20] + "é\x7f" + compact[20:] + "\r", ""}}, signal.FormatCompact},
		{"typed with a backspace", []step{{compact[:20] + "x\x7f" + compact[20:] + "\r", ""}}, signal.FormatCompact},
		{"bad paste, then a good one", []step{
			{"\x1b[200~hello there\x1b[201~", "p2pcam: bad blob: does not look like a p2pcam or WebRTC blob"},
			{"", "p2pcam: hint: advice on: does not look like a p2pcam or WebRTC blob"},
			{"", prompt},
			{"\x1b[200~" + compact + "\x1b[201~", ""},
		}, signal.FormatCompact},
		{"answer pasted, then the offer", []step{
			{testutil.ReadTrimmed(t, "../testdata/golden/answer-2.compact") + "\r", "p2pcam: bad blob: this is an answer blob; an offer blob belongs here"},
			{"", "p2pcam: hint: advice on: this is an answer blob; an offer blob belongs here"},
			{"", prompt},
			{compact + "\r", ""},
		}, signal.FormatCompact},
		{"truncated, then the rest", []step{
			{compact[:100] + "\r", cutShort},
			{compact[100:] + "\r", ""},
		}, signal.FormatCompact},
		{"half a paste, then the whole blob again", []step{
			{"\x1b[200~" + compact[:100] + "\x1b[201~", cutShort},
			{"\x1b[200~" + compact + "\x1b[201~", "a new blob: dropped the 100 characters pasted before it"},
		}, signal.FormatCompact},
		{"half a paste and Enter, then the whole blob again", []step{
			{"\x1b[200~" + wrap(compact[:100], 50, "\n") + "\n\x1b[201~\r", cutShort},
			{"\x1b[200~" + wrap(compact, 50, "\n") + "\n\x1b[201~\r", "a new blob: dropped the 100 characters pasted before it"},
		}, signal.FormatCompact},
		{"half typed, then a whole blob with sound (p2pcam2:)", []step{
			{compact[:100] + "\r", cutShort},
			{withSound + "\r", "a new blob: dropped the 100 characters pasted before it"},
		}, signal.FormatCompact},
		{"half typed, then the whole blob again", []step{
			{compact[:100] + "\r", cutShort},
			{compact + "\r", "a new blob: dropped the 100 characters pasted before it"},
		}, signal.FormatCompact},
		{"half a pion paste, then the whole blob again", []step{
			{"\x1b[200~" + pion[:300] + "\x1b[201~", "got 300 characters: the blob is cut short; paste the rest, or the whole blob again (Enter on an empty line starts over)"},
			{"\x1b[200~" + pion + "\x1b[201~", "a new blob: dropped the 300 characters pasted before it"},
		}, signal.FormatPion},
		{"truncated, Enter twice, then good", []step{
			{compact[:100] + "\r", cutShort},
			{"\r", "p2pcam: bad blob: blob is truncated: got only 100 characters"},
			{"", "p2pcam: hint: advice on: blob is truncated: got only 100 characters"},
			{"", prompt},
			{compact + "\r", ""},
		}, signal.FormatCompact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := deadline(t, 20*time.Second)
			master, tty, errOut, res := readOfferOnPTY(ctx, t)
			// Writing before the prompt would race the switch out of
			// canonical mode.
			errOut.await(ctx, t, prompt)
			for _, st := range tt.steps {
				if st.paste != "" {
					if _, err := master.WriteString(st.paste); err != nil {
						t.Fatal(err)
					}
				}
				if st.expect != "" {
					if got := errOut.await(ctx, t, ""); got != st.expect {
						t.Fatalf("errOut line\n got %q\nwant %q", got, st.expect)
					}
				}
			}
			var r termResult
			select {
			case r = <-res:
			case <-ctx.Done():
				t.Fatal("ReadTerminal did not return")
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.f != tt.want || r.sd.Type != webrtc.SDPTypeOffer {
				t.Errorf("got %s %s", r.f, r.sd.Type)
			}
			errOut.await(ctx, t, "Got the offer")
			assertCanonical(t, tty)
		})
	}
}

// TestReadTerminalEnds checks the two other ways out: Ctrl-D and
// cancellation, both restoring the terminal.
func TestReadTerminalEnds(t *testing.T) {
	checkRoutines(t)
	tests := []struct {
		name  string
		input string // written after the prompt; "" means cancel instead
		want  error
	}{
		{"ctrl-d", "\x04", io.EOF},
		{"ctrl-d after junk", "junk\x04", io.EOF},
		{"cancel while blocked", "", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			wait := deadline(t, 20*time.Second)
			master, tty, errOut, res := readOfferOnPTY(ctx, t)
			errOut.await(wait, t, "Paste the offer blob")
			if tt.input == "" {
				cancel()
			} else if _, err := master.WriteString(tt.input); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-res:
				if !errors.Is(r.err, tt.want) {
					t.Errorf("got %v, want %v", r.err, tt.want)
				}
			case <-wait.Done():
				t.Fatal("ReadTerminal did not return")
			}
			assertCanonical(t, tty)
		})
	}
}

func TestReadTerminalNotATerminal(t *testing.T) {
	f, err := os.Open("../testdata/README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, _, err = ReadTerminal(t.Context(), f, io.Discard, webrtc.SDPTypeOffer, hintsForTest)
	if err == nil || !strings.Contains(err.Error(), "not a terminal") {
		t.Errorf("got %v, want a not-a-terminal error", err)
	}
}

// assertCanonical checks the terminal is back in canonical mode with echo.
func assertCanonical(t *testing.T, tty *os.File) {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ICANON == 0 || tio.Lflag&unix.ECHO == 0 {
		t.Errorf("terminal not restored: lflag %#x", tio.Lflag)
	}
}

// TestQuietTerminal checks the quiet spell a call holds the terminal in:
// echo off and signals on while it lasts, then the old settings back and
// the keys typed meanwhile discarded.
func TestQuietTerminal(t *testing.T) {
	checkRoutines(t)
	master, tty := startPTY(t)
	restore := QuietTerminal(tty)
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO != 0 || tio.Lflag&unix.ISIG == 0 || tio.Lflag&unix.ICANON == 0 {
		t.Errorf("quiet terminal: lflag %#x, want echo off, signals and lines on", tio.Lflag)
	}
	if _, err := master.WriteString("\r\r"); err != nil {
		t.Fatal(err)
	}
	// The two Enters are queued as input before restore flushes them.
	ctx := deadline(t, 10*time.Second)
	for {
		n, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d bytes queued, want 2", n)
		case <-time.After(10 * time.Millisecond):
		}
	}
	restore()
	restore() // idempotent
	assertCanonical(t, tty)
	if n, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCINQ); err != nil || n != 0 {
		t.Errorf("after restore %d bytes of typed input remain (%v), want 0", n, err)
	}
}

func TestQuietTerminalNotATerminal(t *testing.T) {
	f, err := os.Open("../testdata/README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	QuietTerminal(f)() // no effect, no panic
}
