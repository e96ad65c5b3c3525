package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// waitingOnPipe waits until one of pid's threads waits in the kernel for
// a named pipe's writer (wait_for_partner): the process is blocked opening
// its source.
func waitingOnPipe(t *testing.T, ctx context.Context, pid int) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "wchan"))
		for _, f := range tasks {
			if b, _ := os.ReadFile(f); string(b) == "wait_for_partner" {
				return
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("process %d never waited for the pipe's writer", pid)
		}
	}
}

// TestServeFromAPipeEndsOnCtrlC: `offer --serve --source FIFO` ends within
// 2 s of Ctrl-C whatever the pipe is doing: no writer ever came or one
// came and sent only the header (still opening the source: interrupted,
// exit 130), or frames flow and viewers could watch (serving's normal end,
// exit 0).
func TestServeFromAPipeEndsOnCtrlC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		feed string // "": no writer; "header": the Y4M header alone; "frames": a stream
		code int
		say  string
	}{
		{name: "no writer", code: 130, say: "p2pcam: interrupted"},
		{name: "a header and no frame", feed: "header", code: 130, say: "p2pcam: interrupted"},
		{name: "frames flowing", feed: "frames", code: 0, say: "serving the camera"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			fifo := filepath.Join(t.TempDir(), "live")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			srv := start(t, ctx, "serve", false, append([]string{"offer", "--serve", "127.0.0.1:0", "--source", fifo}, loopback...)...)
			fed := make(chan struct{})
			switch tc.feed {
			case "":
				close(fed)
				waitingOnPipe(t, ctx, srv.cmd.Process.Pid)
			default:
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // returns once p2pcam opened it
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				head := "YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n"
				frame := "FRAME\n" + strings.Repeat("\x80", 64*48*3/2)
				if tc.feed == "header" {
					if _, err := io.WriteString(w, head); err != nil {
						t.Fatal(err)
					}
					close(fed)
					break
				}
				// Frames until p2pcam stops reading (the pipe fills
				// while nobody watches) or goes away.
				go func() {
					defer close(fed)
					_, _ = io.WriteString(w, head)
					for ctx.Err() == nil {
						if _, err := io.WriteString(w, frame); err != nil {
							return
						}
					}
				}()
				for l := srv.blob(ctx); !strings.HasPrefix(l, "whep: "); l = srv.blob(ctx) {
				}
			}
			if err := srv.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
			defer wcancel()
			code := srv.wait(wctx)
			if code != tc.code || !strings.Contains(srv.errText(), tc.say) {
				t.Fatalf("exit %d after Ctrl-C; want %d, saying %q\n%s", code, tc.code, tc.say, srv.errText())
			}
			t.Logf("ended %s after Ctrl-C", time.Since(sent).Round(time.Millisecond))
			if tc.feed == "frames" {
				<-fed // the writer sees the reader gone
			}
		})
	}
}

// TestServeStdinToAViewer is `ffmpeg ... -f yuv4mpegpipe - | p2pcam offer
// --serve ADDR --source -` watched by `p2pcam answer --whep URL -o FILE`:
// the viewer records the stream, and the end of stdin stops serving
// cleanly (exit 0), hanging up on the viewer.
func TestServeStdinToAViewer(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ff := ffmpegTestsrc("2", "yuv420p", "-")
	srv := startArgv(t, ctx, "ffmpeg | serve", false, []string{"bash", "-c",
		"set -o pipefail; " + strings.Join(ff, " ") + " | '" + binPath + "' offer --serve 127.0.0.1:0 --source - " + strings.Join(loopback, " ")})
	whep := ""
	for whep == "" {
		if u, ok := strings.CutPrefix(srv.blob(ctx), "whep: "); ok {
			whep = u
		}
	}
	viewer := start(t, ctx, "viewer", false, append([]string{"answer", "--whep", whep, "-o", "stdin.webm"}, loopback...)...)
	if code := srv.wait(ctx); code != 0 || !strings.Contains(srv.errText(), "the source ended; stopping") {
		t.Fatalf("serve exited %d; want 0 once stdin ended, saying so\n%s", code, srv.errText())
	}
	if code := viewer.wait(ctx); code != 0 {
		t.Fatalf("viewer exited %d; want 0 when serving stopped\n%s", code, viewer.errText())
	}
	// The encoder starts with the viewer, and stdin is read only then:
	// nearly every frame reaches it.
	judgeStreamed(t, filepath.Join(viewer.cmd.Dir, "stdin.webm"), 60)
}

// serveLine is the part of a `offer --serve --stats` line checked here.
type serveLine struct {
	Role       string `json:"role"`
	State      string `json:"state"`
	FramesSent uint64 `json:"frames_sent"`
	TargetBps  int    `json:"target_bps"`
	Viewers    []struct {
		ID         string  `json:"id"`
		State      string  `json:"state"`
		FramesSent uint64  `json:"frames_sent"`
		BytesSent  uint64  `json:"bytes_sent"`
		RTTMs      float64 `json:"rtt_ms"`
		TargetBps  int     `json:"target_bps"`
	} `json:"viewers"`
	ViewersSeen int  `json:"viewers_seen"`
	Final       bool `json:"final"`
}

// readServeLines reads a --stats file's whole lines.
func readServeLines(t *testing.T, path string) []serveLine {
	t.Helper()
	b, _ := os.ReadFile(path)
	var out []serveLine
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		var s serveLine
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			return out // a line being written
		}
		out = append(out, s)
	}
	return out
}

// TestServeStatsLines: `offer --serve --stats FILE` writes a line a second
// with each viewer's figures and, after Ctrl-C, a final line.
func TestServeStatsLines(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, _, whep := served(t, ctx, "--width", "160", "--height", "120", "--stats", "serve.jsonl")
	path := filepath.Join(srv.cmd.Dir, "serve.jsonl")
	viewer := start(t, ctx, "viewer", false, append([]string{"answer", "--whep", whep, "-o", "v.webm"}, loopback...)...)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var seen serveLine
	for len(seen.Viewers) != 1 || seen.Viewers[0].FramesSent < 30 {
		ls := readServeLines(t, path)
		if len(ls) > 0 {
			seen = ls[len(ls)-1]
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("no line with a viewer that got 30 frames; last %+v", seen)
		}
	}
	v := seen.Viewers[0]
	if seen.Role != "serve" || seen.State != "serving" || seen.FramesSent < v.FramesSent || seen.TargetBps <= 0 ||
		v.State != "connected" || v.BytesSent == 0 || v.TargetBps <= 0 || v.ID == "" {
		t.Errorf("line %+v", seen)
	}
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	if code := srv.wait(ctx); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	waitOK(ctx, viewer)
	ls := readServeLines(t, path)
	last := ls[len(ls)-1]
	if !last.Final || last.State != "stopped" || last.ViewersSeen != 1 || len(last.Viewers) != 1 || last.Viewers[0].ID != v.ID ||
		last.Viewers[0].FramesSent < v.FramesSent {
		t.Errorf("final line %+v; want final, stopped, with the viewer's figures", last)
	}
	for _, l := range ls[:len(ls)-1] {
		if l.Final {
			t.Errorf("a final line before the last: %+v", l)
		}
	}
}
