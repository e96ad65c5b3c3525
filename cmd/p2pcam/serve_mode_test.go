package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
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
		AudioSent  uint64  `json:"audio_packets_sent"`
		AudioLost  int64   `json:"audio_packets_lost"`
		AudioLoss  float64 `json:"audio_loss_pct"`
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
// with each viewer's figures, its sound's among them, and, after Ctrl-C, a
// final line.
func TestServeStatsLines(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, _, whep := served(t, ctx, "--width", "160", "--height", "120", "--audio", "test", "--stats", "serve.jsonl")
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
	// 30 frames at 30 fps take a second: the sound's 50 packets a second
	// went along, none lost on loopback.
	if v.AudioSent < 25 || v.AudioLost != 0 || v.AudioLoss != 0 {
		t.Errorf("viewer's sound: %d packets sent, %d lost (%.1f%%); want about 50 a second, none lost", v.AudioSent, v.AudioLost, v.AudioLoss)
	}
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	if code := srv.wait(ctx); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	waitOK(ctx, viewer)
	ls := readServeLines(t, path)
	last := ls[len(ls)-1]
	if !last.Final || last.State != "stopped" || last.ViewersSeen != 1 || len(last.Viewers) != 1 || last.Viewers[0].ID != v.ID ||
		last.Viewers[0].FramesSent < v.FramesSent || last.Viewers[0].AudioSent < v.AudioSent {
		t.Errorf("final line %+v; want final, stopped, with the viewer's figures", last)
	}
	for _, l := range ls[:len(ls)-1] {
		if l.Final {
			t.Errorf("a final line before the last: %+v", l)
		}
	}
}

// TestServeSoundFollowsAViewersLoss: a viewer behind a link that drops a
// fifth of what reaches it (nftables, in its namespace) reports the loss
// of its sound in --serve's stats line, and the one sound encoder codes
// in-band FEC for it: the viewer's own --stats recover lost sound from it.
func TestServeSoundFollowsAViewersLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 10 s")
	}
	testutil.NeedFFmpeg(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (apt-get install -y nftables)")
	}
	n := newNetPair(t)
	dir := t.TempDir()
	voice := filepath.Join(dir, "voice.wav")
	// A voiced tone that never pauses: libopus codes FEC for speech, not
	// for the silence between the test beeps.
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		"aevalsrc='0.3*sin(2*PI*(140+20*sin(2*PI*0.7*t))*t)+0.1*sin(6*PI*(140+20*sin(2*PI*0.7*t))*t)':s=48000:d=3",
		"-ac", "1", "-c:a", "pcm_s16le", voice).CombinedOutput(); err != nil {
		t.Fatalf("making the voice: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	serveStats, viewerStats := filepath.Join(dir, "serve.jsonl"), filepath.Join(dir, "viewer.jsonl")
	srv := startArgv(t, ctx, "serve", false, n.in(n.a)([]string{binPath, "offer", "--serve", "192.0.2.1:0", "--source", "test",
		"--width", "160", "--height", "120", "--audio", voice, "--ice-server", "none", "--interface", n.devA, "--stats", serveStats}))
	var whep string
	for whep == "" {
		if u, ok := strings.CutPrefix(srv.blob(ctx), "whep: "); ok {
			whep = u
		}
	}
	viewer := startArgv(t, ctx, "viewer", false, n.in(n.b)([]string{binPath, "answer", "--whep", whep, "-o", filepath.Join(dir, "v.webm"),
		"--duration", "8s", "--ice-server", "none", "--interface", n.devB, "--stats", viewerStats}))
	waitConnected(ctx, viewer)
	cmd := exec.Command("ip", "netns", "exec", n.b, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(fmt.Sprintf("table inet p2pcamloss {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n"+
		"\t\tiifname %q udp length > 0 numgen random mod 100 < 20 drop\n\t}\n}\n", n.devB))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("nft unavailable: %v\n%s", err, out)
	}
	// The hang-up must not be lost: lift the loss before the end.
	time.Sleep(6 * time.Second)
	if out, err := exec.Command("ip", "netns", "exec", n.b, "nft", "flush", "chain", "inet", "p2pcamloss", "in").CombinedOutput(); err != nil {
		t.Fatalf("nft flush: %v\n%s", err, out)
	}
	waitOK(ctx, viewer)
	ls := readServeLines(t, serveStats)
	worst := 0.0
	var lost int64
	for _, l := range ls {
		for _, v := range l.Viewers {
			worst, lost = max(worst, v.AudioLoss), max(lost, v.AudioLost)
		}
	}
	if lost == 0 || worst == 0 {
		t.Errorf("--serve's lines never saw the viewer lose sound (lost %d, at most %.1f%% a report):\n%+v", lost, worst, ls)
	}
	b, err := os.ReadFile(viewerStats)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var final struct {
		Lost  uint64  `json:"audio_packets_lost"`
		FECMs float64 `json:"audio_fec_ms"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil {
		t.Fatal(err)
	}
	t.Logf("serve saw up to %.1f%% of the sound lost, %d packets; the viewer lost %d and recovered %.0f ms from FEC", worst, lost, final.Lost, final.FECMs)
	if final.Lost == 0 || final.FECMs == 0 {
		t.Errorf("viewer's final line %s: want lost sound, some recovered from FEC", lines[len(lines)-1])
	}
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	srv.wait(ctx)
}
