package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/mediamtx"
)

// TestViewerFigures measures one 640x480 camera reaching 1, 4 and 16
// viewers (16 is --serve's cap), through mediamtx (WHIP in, WHEP out) and
// through offer --serve: each viewer's frame rate over a 10 s window
// (median and lowest), the sender's CPU over that window (from /proc, as a
// share of one core, and as a multiple of its cost with one viewer: the
// camera is encoded once, so 16 viewers should cost far less than 16
// times one) and its resident memory. The viewers are light: receive-only
// pion peers in the test process that count frames without decoding
// them; their own CPU (this process's, over the window) is in the table
// too, and so is mediamtx's, which does the fan-out that --serve does in
// the sender. A benchmark, not a test: it runs only with P2PCAM_VIEWER_FIGURES=1
// (make bench-viewers) and logs a table.
func TestViewerFigures(t *testing.T) {
	if os.Getenv("P2PCAM_VIEWER_FIGURES") != "1" {
		t.Skip("set P2PCAM_VIEWER_FIGURES=1 (make bench-viewers) to measure")
	}
	const window = 10 * time.Second
	size := []string{"--width", "640", "--height", "480"}
	type row struct {
		via     string
		n       int
		median  float64
		lowest  float64
		cpu     float64 // sender, share of a core
		rss     int64   // sender, bytes
		viewers float64 // the viewers' CPU, share of a core
		server  float64 // mediamtx's CPU, share of a core; -1 for serve
		load    string
	}
	var rows []row
	for _, via := range []string{"mediamtx", "serve"} {
		for _, n := range []int{1, 4, 16} {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			var sender *proc
			var whep string
			server := -1
			switch via {
			case "mediamtx":
				srv := mediamtx.Start(t, mediamtx.Options{Publisher: &mtxPublisher})
				server = srv.Pid()
				sender = publish(t, ctx, srv, "cam", size...)
				whep = srv.WHEPURL("cam")
			case "serve":
				sender, _, whep = served(t, ctx, size...)
			}
			var viewers []*whepViewer
			for i := range n {
				v, err := joinViewer(ctx, whep)
				// mediamtx has the stream a moment after its publisher
				// connected: until then it answers 404.
				for tries := 0; err != nil && strings.Contains(err.Error(), "404") && tries < 50; tries++ {
					time.Sleep(100 * time.Millisecond)
					v, err = joinViewer(ctx, whep)
				}
				if err != nil {
					t.Fatalf("%s: viewer %d of %d: %v", via, i+1, n, err)
				}
				viewers = append(viewers, v)
			}
			// Every viewer has its first frame, then a few seconds to
			// settle (congestion control, layers), then the window.
			for _, v := range viewers {
				for v.frames.Load() == 0 && ctx.Err() == nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
			time.Sleep(3 * time.Second)
			frames0 := make([]int64, n)
			for i, v := range viewers {
				frames0[i] = v.frames.Load()
			}
			cpu0, self0, at0 := cpuTime(t, sender), selfCPU(), time.Now()
			var srv0 time.Duration
			if server > 0 {
				srv0 = pidCPU(t, server)
			}
			time.Sleep(window)
			secs := time.Since(at0).Seconds()
			r := row{via: via, n: n,
				cpu:     (cpuTime(t, sender) - cpu0).Seconds() / secs,
				viewers: (selfCPU() - self0).Seconds() / secs,
				server:  -1,
				rss:     rss(t, sender.cmd.Process.Pid), load: loadavg()}
			if server > 0 {
				r.server = (pidCPU(t, server) - srv0).Seconds() / secs
			}
			var fps []float64
			for i, v := range viewers {
				fps = append(fps, float64(v.frames.Load()-frames0[i])/secs)
			}
			slices.Sort(fps)
			r.median, r.lowest = fps[len(fps)/2], fps[0]
			rows = append(rows, r)
			for _, v := range viewers {
				_ = v.leave(via == "serve")
			}
			_ = sender.cmd.Process.Signal(syscall.SIGINT)
			sender.wait(ctx)
			cancel()
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| via | viewers | fps per viewer, median (lowest) | sender CPU, share of a core | sender CPU vs 1 viewer | sender RSS | mediamtx CPU | viewers' CPU (test process) | load average |\n|---|---|---|---|---|---|---|---|---|\n")
	var one float64
	for _, r := range rows {
		if r.n == 1 {
			one = r.cpu
		}
		server := "(in the sender)"
		if r.server >= 0 {
			server = fmt.Sprintf("%.0f%%", r.server*100)
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f (%.1f) | %.0f%% | %.1f× | %.1f MB | %s | %.0f%% | %s |\n",
			r.via, r.n, r.median, r.lowest, r.cpu*100, r.cpu/one, float64(r.rss)/(1<<20), server, r.viewers*100, r.load)
	}
	t.Log(b.String())
}

// cpuTime is the process's user+system CPU time so far, from /proc.
func cpuTime(t *testing.T, p *proc) time.Duration {
	t.Helper()
	return pidCPU(t, p.cmd.Process.Pid)
}

// pidCPU is cpuTime for any process.
func pidCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
