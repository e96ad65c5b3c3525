package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCtrlCInAPlayerPipeline: Ctrl-C in `p2pcam answer -o - | ffplay -`
// reaches both; the player dies first and p2pcam's last writes find the
// pipe closed. That is the person stopping the call, not a failure: exit
// 0 as for any Ctrl-C during a call, and no "broken pipe".
func TestCtrlCInAPlayerPipeline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test"}, loopback...)...)
	blobFile := offer.blobFile(ctx)
	player, video, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer video.Close()
	answer := exec.Command(binPath, append([]string{"answer", "-o", "-", "--remote", blobFile}, loopback...)...)
	answer.Dir = t.TempDir()
	answer.Stdout = video
	var mu sync.Mutex
	var stderr strings.Builder
	answer.Stderr = writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return stderr.Write(b)
	})
	errText := func() string { mu.Lock(); defer mu.Unlock(); return stderr.String() }
	if err := answer.Start(); err != nil {
		t.Fatal(err)
	}
	video.Close() // the child holds it now
	defer answer.Process.Kill()
	done := make(chan error, 1)
	go func() { done <- answer.Wait() }()
	// The player reads until it has seen some video.
	got := make(chan struct{})
	go func() {
		if _, err := io.CopyN(io.Discard, player, 100_000); err == nil {
			close(got)
		}
	}()
	// Paste the answer into the offer.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var answerBlob string
	for answerBlob == "" {
		for _, l := range strings.Split(errText(), "\n") {
			if strings.HasPrefix(l, "p2pcam1:") || strings.HasPrefix(l, "p2pcam2:") {
				answerBlob = l
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("answer printed no blob\n%s", errText())
		}
	}
	offer.paste(answerBlob)
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatalf("no video on the pipe\n%s", errText())
	}
	// Ctrl-C: the player goes, and p2pcam is interrupted.
	player.Close()
	if err := answer.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if code := answer.ProcessState.ExitCode(); code != 0 {
			t.Errorf("answer exited %d; want 0 (a Ctrl-C during a call)\n%s", code, errText())
		}
	case <-ctx.Done():
		t.Fatalf("answer did not exit\n%s", errText())
	}
	if strings.Contains(errText(), "broken pipe") {
		t.Errorf("answer blamed the pipe for a Ctrl-C:\n%s", errText())
	}
}
