package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestAnswerAtATerminal runs `p2pcam answer` on a real pseudo-terminal, as
// a person would: the offer blob is pasted (bracketed paste, wrapped, far
// longer than one line) and the answer blob comes back on the terminal,
// also offered to the clipboard through OSC 52.
func TestAnswerAtATerminal(t *testing.T) {
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
	cmd := exec.Command(binPath, append([]string{"answer", "-o", "tty.webm"}, loopback...)...)
	cmd.Dir = dir
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

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
	seen := func() string {
		mu.Lock()
		defer mu.Unlock()
		return screen.String()
	}
	waitScreen := func(re *regexp.Regexp) []string {
		t.Helper()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if m := re.FindStringSubmatch(seen()); m != nil {
				return m
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("terminal never showed %v; it shows:\n%q", re, seen())
			}
		}
	}

	waitScreen(regexp.MustCompile(`Paste the offer blob`))
	// A paste as terminals deliver it: bracketed, wrapped at 80 columns.
	var paste strings.Builder
	paste.WriteString("\x1b[200~")
	for b := offerBlob; len(b) > 0; {
		n := min(80, len(b))
		paste.WriteString(b[:n] + "\r\n")
		b = b[n:]
	}
	paste.WriteString("\x1b[201~\r")
	if _, err := tty.WriteString(paste.String()); err != nil {
		t.Fatal(err)
	}
	m := waitScreen(regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)\x07`))
	clip, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	answerBlob := string(clip)
	if !strings.Contains(seen(), answerBlob+"\r\n") {
		t.Fatalf("the answer blob is not on a line of its own:\n%q", seen())
	}
	offer.paste(answerBlob)
	if code := offer.wait(ctx); code != 0 {
		t.Fatalf("offer exited %d\n%s", code, offer.errText())
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("answer: %v\n%q", err, seen())
		}
	case <-ctx.Done():
		t.Fatalf("answer did not exit:\n%q", seen())
	}
	for _, want := range []string{"Got the offer", "connected over host/udp", "verification code: "} {
		if !strings.Contains(seen(), want) {
			t.Errorf("terminal lacks %q:\n%q", want, seen())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tty.webm")); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Probe(t, filepath.Join(dir, "tty.webm")); got.Codec != "vp8" || got.Width != 320 || got.Height != 240 || got.Frames < 30 {
		t.Fatalf("recording: %s %dx%d %d frames", got.Codec, got.Width, got.Height, got.Frames)
	}
}
