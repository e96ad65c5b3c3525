package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/mediamtx"
	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestViewerFigures measures one camera reaching 1, 3 and 5 viewers, through
// mediamtx (WHIP in, WHEP out) and through offer --serve: each viewer's
// first frame after it connected, the frames each recorded in 10 s, and the
// sender's CPU. A benchmark, not a test: it runs only with
// P2PCAM_VIEWER_FIGURES=1 (make bench-viewers) and logs a table.
func TestViewerFigures(t *testing.T) {
	if os.Getenv("P2PCAM_VIEWER_FIGURES") != "1" {
		t.Skip("set P2PCAM_VIEWER_FIGURES=1 (make bench-viewers) to measure")
	}
	testutil.NeedFFmpeg(t)
	const secs = 10
	size := []string{"--width", "1280", "--height", "720", "--bitrate", "2.5M"}
	var rows []string
	for _, via := range []string{"mediamtx", "serve"} {
		for _, n := range []int{1, 3, 5} {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			var sender *proc
			var whep string
			switch via {
			case "mediamtx":
				srv := mediamtx.Start(t, mediamtx.Options{Publisher: &mtxPublisher})
				sender = publish(t, ctx, srv, "cam", size...)
				whep = srv.WHEPURL("cam")
			case "serve":
				sender, _, whep = served(t, ctx, size...)
			}
			cpu0, at0 := cpuTime(t, sender), time.Now()
			dir := t.TempDir()
			var viewers []*proc
			for i := range n {
				viewers = append(viewers, start(t, ctx, fmt.Sprintf("viewer %d", i), false,
					append([]string{"answer", "--whep", whep, "-o", filepath.Join(dir, fmt.Sprintf("v%d.ivf", i)), "--duration", strconv.Itoa(secs) + "s"}, loopback...)...))
			}
			waitOK(ctx, viewers...)
			share := (cpuTime(t, sender) - cpu0).Seconds() / time.Since(at0).Seconds()
			var firsts, frames []string
			for i, v := range viewers {
				firsts = append(firsts, strconv.FormatInt(firstFrameMs(t, v), 10))
				frames = append(frames, strconv.Itoa(testutil.Probe(t, filepath.Join(dir, fmt.Sprintf("v%d.ivf", i))).Frames))
			}
			rows = append(rows, fmt.Sprintf("| %s | %d | %s | %s of %d | %.0f%% |", via, n,
				strings.Join(firsts, ", "), strings.Join(frames, ", "), secs*30, share*100))
			_ = sender.cmd.Process.Signal(syscall.SIGINT)
			sender.wait(ctx)
			cancel()
		}
	}
	t.Logf("\n| via | viewers | first frame after connecting, ms | frames recorded in %d s | sender CPU, share of a core |\n|---|---|---|---|---|\n%s", secs, strings.Join(rows, "\n"))
}

// cpuTime is the process's user+system CPU time so far, from /proc.
func cpuTime(t *testing.T, p *proc) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}
