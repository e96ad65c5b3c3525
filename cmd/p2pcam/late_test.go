package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// TestLatePipeReaderGetsLive: `answer -o -` into a reader that reads
// nothing for the first seconds of the call, then everything. While it
// does not read, p2pcam drops frames rather than pile them up, so what
// the reader gets once it reads jumps to the live picture: the first frame
// after the jump in the pattern's capture stamps was captured at most
// about the queue's length before the reader started. The stream decodes
// cleanly all the same. (Before, the reader got every frame since the
// start: a backlog it played seconds behind.)
func TestLatePipeReaderGetsLive(t *testing.T) {
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	resumed, stats := filepath.Join(dir, "resumed"), filepath.Join(dir, "stats.jsonl")
	const w, h = 320, 240
	offer, answer := call(t, ctx, callSpec{
		offerArgs: append([]string{"offer", "--source", "test", "--width", fmt.Sprint(w), "--height", fmt.Sprint(h),
			"--duration", "8s"}, loopback...),
		answerArgs:     append([]string{"answer", "-o", "-", "--stats", stats}, loopback...),
		answerToStdout: true,
		answerIn: func(argv []string) []string {
			// The reader sleeps past the connection, notes when it starts
			// reading, then reads all.
			return append([]string{"bash", "-c", `"$@" | { sleep 4; date +%s%3N > '` + resumed + `'; exec cat; }`, "sh"}, argv...)
		},
	})
	waitOK(ctx, offer, answer)

	b, err := os.ReadFile(resumed)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("reader's start time %q: %v", b, err)
	}
	start := time.UnixMilli(ms)
	data := answer.stdout.Bytes()
	testutil.DecodesCleanlyData(t, data)
	final := finalPipeStats(t, stats)
	if got := testutil.ProbeData(t, data).Frames; final.Dropped == 0 || got != final.FramesRecv {
		t.Errorf("--stats: %d frames received, %d dropped for the pipe; the stream holds %d; want them equal, and some dropped",
			final.FramesRecv, final.Dropped, got)
	}

	stamps := readStamps(t, data, w, h)
	if len(stamps) < 30 {
		t.Fatalf("%d stamped frames read; want a few seconds of video", len(stamps))
	}
	if lag := stampLag(start, stamps[0]); lag < 2*time.Second {
		t.Fatalf("the first frame was captured %v before the reader started; the reader did not start late", lag)
	}
	// The first frame captured after a jump of over a second.
	for i := 1; i < len(stamps); i++ {
		jump := time.Duration(int32(stamps[i].Millis-stamps[i-1].Millis)) * time.Millisecond
		if jump < time.Second {
			continue
		}
		lag := stampLag(start, stamps[i])
		t.Logf("the reader started %v after the first frame; frame %d jumps %v to %v before the reader started",
			stampLag(start, stamps[0]), i, jump, lag)
		if lag > 500*time.Millisecond {
			t.Errorf("after the jump the reader got a frame captured %v before it started reading; want the live picture (< 500ms)", lag)
		}
		return
	}
	t.Errorf("the reader got every frame since %v before it started reading (%d frames, no jump): a backlog, not the live picture",
		stampLag(start, stamps[0]), len(stamps))
}

// readStamps decodes a w×h recording with ffmpeg and returns the pattern
// stamps of its frames in order; frames without a readable stamp are left
// out.
func readStamps(t *testing.T, data []byte, w, h int) []pattern.Stamp {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", "pipe:0", "-fps_mode", "passthrough",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1")
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg decoding to raw pictures: %v\n%s", err, stderr.Bytes())
	}
	size := w * h * 3 / 2
	var stamps []pattern.Stamp
	for off := 0; off+size <= len(raw); off += size {
		f := raw[off : off+size]
		img := &image.YCbCr{
			Y: f[:w*h], Cb: f[w*h : w*h*5/4], Cr: f[w*h*5/4:],
			YStride: w, CStride: w / 2,
			SubsampleRatio: image.YCbCrSubsampleRatio420,
			Rect:           image.Rect(0, 0, w, h),
		}
		if s, ok := pattern.Read(img); ok {
			stamps = append(stamps, s)
		}
	}
	return stamps
}

// finalPipeStats returns the figures of the last line of a --stats file.
func finalPipeStats(t *testing.T, path string) (final struct {
	FramesRecv int `json:"frames_recv"`
	Dropped    int `json:"frames_dropped_pipe"`
}) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil {
		t.Fatalf("--stats last line %q: %v", lines[len(lines)-1], err)
	}
	return final
}
