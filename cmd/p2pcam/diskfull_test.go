package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// smallDisk mounts a 1 MB tmpfs on a directory of its own and unmounts it
// when the test ends.
func smallDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "p2pcam-test", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// TestDiskFullEndsTheCall: a recording that fills its disk mid-call ends
// the call at once: the recorder exits 1 with one line naming the
// system's reason, the sender is told why and ends 0, and the summary and
// --stats count exactly the frames the finalized file holds.
func TestDiskFullEndsTheCall(t *testing.T) {
	testutil.NeedFFmpeg(t)
	t.Parallel() // it mostly waits out timeouts
	for _, name := range []string{"full.webm", "full.ivf"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(smallDisk(t), name)
			stats := filepath.Join(t.TempDir(), "answer.jsonl")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			// 1.5 Mbit/s of 640x480 pattern fills 1 MB in about 6 s.
			offer, answer := call(t, ctx, callSpec{
				offerArgs:  append([]string{"offer", "--source", "test"}, loopback...),
				answerArgs: append([]string{"answer", "-o", out, "--stats", stats}, loopback...),
			})
			if code := answer.wait(ctx); code != 1 {
				t.Fatalf("answer exited %d; want 1\n%s", code, answer.errText())
			}
			at := time.Now()
			errLine := regexp.MustCompile(`(?m)^p2pcam: recording failed: .*no space left on device$`)
			if lines := errLine.FindAllString(answer.errText(), -1); len(lines) != 1 {
				t.Errorf("answer: want one error line naming the full disk\n%s", answer.errText())
			}
			code := offer.wait(ctx)
			t.Logf("the offer ended %.3f s after the answer exited", time.Since(at).Seconds())
			if code != 0 || !strings.Contains(offer.errText(), "the other side stopped recording: no space left on device; hanging up\n") {
				t.Errorf("offer exited %d; want 0 with the other side's reason\n%s", code, offer.errText())
			}

			saved := regexp.MustCompile(`saved (\d+) frames to `).FindStringSubmatch(answer.errText())
			if saved == nil {
				t.Fatalf("answer: no summary of frames saved\n%s", answer.errText())
			}
			summary, _ := strconv.Atoi(saved[1])
			final := finalStats(t, stats)
			got := testutil.Probe(t, out)
			testutil.DecodesCleanly(t, out)
			if got.Frames < 30 || got.Frames != summary || final.FramesRecv != summary {
				t.Errorf("file holds %d frames, the summary says %d, --stats %d; want them equal (and the seconds before the disk filled)", got.Frames, summary, final.FramesRecv)
			}
			if final.Error == "" {
				t.Errorf("--stats final line %+v has no error", final)
			}
		})
	}
}

// finalStats returns the "final": true line of a --stats file.
func finalStats(t *testing.T, path string) (final struct {
	Final      bool   `json:"final"`
	FramesRecv int    `json:"frames_recv"`
	Error      string `json:"error"`
}) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil || !final.Final {
		t.Fatalf("--stats last line %q: not a final line (%v)", lines[len(lines)-1], err)
	}
	return final
}
