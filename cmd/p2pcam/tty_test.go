package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// ttyProc is p2pcam running on a pseudo-terminal of its own, as a person
// runs it: everything it prints is kept, as the terminal received it.
type ttyProc struct {
	t    *testing.T
	ctx  context.Context
	cmd  *exec.Cmd
	tty  *os.File
	cols int
	done chan error

	seen func() string // all the terminal received so far
}

// keepScreen keeps all that tty receives, until it is closed; the
// returned function reads it.
func keepScreen(tty *os.File) (seen func() string) {
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return screen.String()
	}
}

// startTTY runs p2pcam with args in dir on a new pty of cols columns.
func startTTY(t *testing.T, ctx context.Context, dir string, cols int, args ...string) *ttyProc {
	t.Helper()
	p := &ttyProc{t: t, ctx: ctx, cols: cols, done: make(chan error, 1)}
	p.cmd = exec.Command(binPath, args...)
	p.cmd.Dir = dir
	var err error
	p.tty, err = pty.StartWithSize(p.cmd, &pty.Winsize{Rows: 40, Cols: uint16(cols)})
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.tty.Close() })
	p.seen = keepScreen(p.tty)
	go func() { p.done <- p.cmd.Wait() }()
	return p
}

// waitScreen waits until what the terminal received matches re.
func (p *ttyProc) waitScreen(re *regexp.Regexp) []string {
	p.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := re.FindStringSubmatch(p.seen()); m != nil {
			return m
		}
		select {
		case <-tick.C:
		case <-p.ctx.Done():
			p.t.Fatalf("terminal never showed %v; it shows:\n%q", re, p.seen())
		}
	}
}

// press types s on the terminal's keyboard.
func (p *ttyProc) press(s string) {
	p.t.Helper()
	if _, err := p.tty.WriteString(s); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for p2pcam to exit and fails the test unless it exits 0.
func (p *ttyProc) waitOK() {
	p.t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Fatalf("p2pcam on the terminal: %v\n%q", err, p.seen())
		}
	case <-p.ctx.Done():
		p.t.Fatalf("p2pcam on the terminal did not exit:\n%q", p.seen())
	}
}

// assertEcho checks that p2pcam, having exited, left its terminal in
// canonical mode with echo on, as the shell wants it. (The settings of a
// pseudo-terminal are read through its master end.)
func (p *ttyProc) assertEcho() {
	p.t.Helper()
	tio, err := unix.IoctlGetTermios(int(p.tty.Fd()), getTermios)
	if err != nil {
		p.t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 || tio.Lflag&unix.ICANON == 0 {
		p.t.Errorf("p2pcam left the terminal without echo or lines: lflag %#x", tio.Lflag)
	}
}

// bracketed is blob as a terminal delivers a paste: between bracketed
// paste markers, wrapped at 80 columns.
func bracketed(blob string) string {
	var paste strings.Builder
	paste.WriteString("\x1b[200~")
	for b := blob; len(b) > 0; {
		n := min(80, len(b))
		paste.WriteString(b[:n] + "\r\n")
		b = b[n:]
	}
	paste.WriteString("\x1b[201~")
	return paste.String()
}

// TestAnswerAtATerminal runs `p2pcam answer` on a real pseudo-terminal, as
// a person would: the offer blob is pasted (bracketed paste, wrapped, far
// longer than one line) and the answer blob comes back on the terminal,
// also offered to the clipboard through OSC 52.
func TestAnswerAtATerminal(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test", "--width", "320", "--height", "240",
		"--duration", "2s", "--blob-format", "pion"}, loopback...)...)
	offerBlob := offer.blob(ctx)
	if len(offerBlob) < 1200 {
		t.Fatalf("a pion blob of %d characters is too short to test long pastes", len(offerBlob))
	}

	dir := t.TempDir()
	answer := startTTY(t, ctx, dir, 100, append([]string{"answer", "-o", "tty.webm"}, loopback...)...)
	answer.waitScreen(regexp.MustCompile(`Paste the offer blob`))
	answer.press(bracketed(offerBlob) + "\r")
	m := answer.waitScreen(regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)\x07`))
	clip, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	answerBlob := string(clip)
	if !strings.Contains(answer.seen(), answerBlob+"\r\n") {
		t.Fatalf("the answer blob is not on a line of its own:\n%q", answer.seen())
	}
	offer.paste(answerBlob)
	if code := offer.wait(ctx); code != 0 {
		t.Fatalf("offer exited %d\n%s", code, offer.errText())
	}
	answer.waitOK()
	for _, want := range []string{"Got the offer", "connected over host/udp", "verification code: "} {
		if !strings.Contains(answer.seen(), want) {
			t.Errorf("terminal lacks %q:\n%q", want, answer.seen())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tty.webm")); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Probe(t, filepath.Join(dir, "tty.webm")); got.Codec != "vp8" || got.Width != 320 || got.Height != 240 || got.Frames < 30 {
		t.Fatalf("recording: %s %dx%d %d frames", got.Codec, got.Width, got.Height, got.Frames)
	}
}

// TestTerminalStaysReadable is a newcomer's call at a terminal: the offer
// blob pasted, then Enter pressed (as the prompt says) once the blob was
// taken, --stats - on the same terminal as the status line. What the
// terminal shows at the end, rendered, must hold no stale countdown, no
// stray blank line and no --stats line glued onto another; the "waiting
// up to" line must give the time the countdown starts from. With -v, the
// log lines share the terminal too.
func TestTerminalStaysReadable(t *testing.T) {
	t.Parallel()
	for _, extra := range [][]string{nil, {"-v"}} {
		t.Run(strings.Join(append([]string{"flags"}, extra...), " "), func(t *testing.T) {
			terminalStaysReadable(t, extra)
		})
	}
}

func terminalStaysReadable(t *testing.T, extra []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test", "--width", "320", "--height", "240",
		"--duration", "3s"}, loopback...)...)
	offerBlob := offer.blob(ctx)

	const cols = 100
	answer := startTTY(t, ctx, t.TempDir(), cols, append([]string{"answer", "-o", "none", "--source", "test",
		"--width", "320", "--height", "240", "--stats", "-", "--no-clipboard"}, append(extra, loopback...)...)...)
	answer.waitScreen(regexp.MustCompile(`Paste the offer blob`))
	answer.press(bracketed(offerBlob))
	// The blob is taken at the paste's end; the person presses Enter
	// after reading the prompt again.
	answer.waitScreen(regexp.MustCompile(`left for the other side to paste the answer and connect`))
	answer.press("\r")
	m := answer.waitScreen(regexp.MustCompile(`answer blob \(.*\r\n(p2pcam[12]:\S+)\r\n`))
	offer.paste(m[1])
	if code := offer.wait(ctx); code != 0 {
		t.Fatalf("offer exited %d\n%s", code, offer.errText())
	}
	answer.waitOK()

	seen := answer.seen()
	stats, logs := readableScreen(t, cols, seen)
	if len(extra) > 0 && logs == 0 {
		t.Errorf("no log lines with %s", extra)
	}
	if stats < 2 {
		t.Errorf("%d --stats lines on the terminal; want at least 2", stats)
	}
	answer.assertEcho()
	wait := regexp.MustCompile(`waiting up to (\d+:\d\d) for the other side to paste the answer and connect`).FindStringSubmatch(seen)
	first := regexp.MustCompile(`(\d+:\d\d) left for the other side to paste the answer and connect`).FindStringSubmatch(seen)
	if wait == nil || first == nil {
		t.Fatalf("no \"waiting up to\" line or no countdown:\n%q", seen)
	}
	// Both come from one deadline; the countdown may have ticked once.
	w, _ := time.ParseDuration(strings.Replace(wait[1], ":", "m", 1) + "s")
	c, _ := time.ParseDuration(strings.Replace(first[1], ":", "m", 1) + "s")
	if c != w && c != w-time.Second {
		t.Errorf("the answer side says it waits up to %s, its countdown starts at %s", wait[1], first[1])
	}
}

// readableScreen renders what a terminal of cols columns received and
// fails the test for a stale countdown, a stray blank line, or a --stats
// or log line glued onto another. It returns how many --stats and log
// lines it shows.
func readableScreen(t *testing.T, cols int, seen string) (stats, logs int) {
	t.Helper()
	lines := render(cols, seen)
	shown := strings.Join(lines, "\n")
	countdown := regexp.MustCompile(`^\d+:\d\d left `)
	for i, l := range lines {
		if strings.Contains(l, "level=") {
			logs++
			if !strings.HasPrefix(l, "time=") || strings.Count(l, "level=") > 1 {
				t.Errorf("line %d is not a log line of its own: %q\n%s", i, l, shown)
			}
			continue
		}
		if countdown.MatchString(l) {
			t.Errorf("line %d is a stale countdown: %q\n%s", i, l, shown)
		}
		if l == "" {
			t.Errorf("line %d is a stray blank line\n%s", i, shown)
		}
		if j := strings.Index(l, `{"`); j >= 0 {
			stats++
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); j > 0 || err != nil {
				t.Errorf("line %d is not a --stats line of its own (%v): %q\n%s", i, err, l, shown)
			}
		}
	}
	return stats, logs
}

// TestOfferAtATerminalStaysReadable is the offering side of a call at a
// terminal: the answer blob pasted, then Enter pressed once it was taken,
// while p2pcam reads the terminal on for a second answer. Nothing stale
// or stray may stay on the screen, and the terminal is left as it was.
func TestOfferAtATerminalStaysReadable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const cols = 100
	offer := startTTY(t, ctx, t.TempDir(), cols, append([]string{"offer", "--source", "test", "--width", "320", "--height", "240",
		"--duration", "3s", "--stats", "-", "--no-clipboard"}, loopback...)...)
	m := offer.waitScreen(regexp.MustCompile(`offer blob \(.*\r\n(p2pcam[12]:\S+)\r\n`))
	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "none", "--source", "test", "--width", "320", "--height", "240"}, loopback...)...)
	answer.paste(m[1])
	offer.waitScreen(regexp.MustCompile(`Paste the answer blob`))
	offer.press(bracketed(answer.blob(ctx)))
	offer.waitScreen(regexp.MustCompile(`connecting…`))
	offer.press("\r")
	offer.waitOK()
	if code := answer.wait(ctx); code != 0 {
		t.Fatalf("answer exited %d\n%s", code, answer.errText())
	}
	if stats, _ := readableScreen(t, cols, offer.seen()); stats < 2 {
		t.Errorf("%d --stats lines on the terminal; want at least 2", stats)
	}
	offer.assertEcho()
}
