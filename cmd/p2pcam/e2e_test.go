package main

// End-to-end tests of the built binary: two p2pcam processes on this
// machine, blobs handed over through their standard streams as a person
// would paste them, traffic on loopback only, recordings judged by ffprobe
// and ffmpeg.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// binPath is p2pcam built for the Go tests that drive it with exec.Cmd.
// The scripts run p2pcam as testscript's command instead: this test
// binary, re-run with main (script_test.go).
var binPath string

func TestMain(m *testing.M) {
	testscript.Main(buildFirst{m}, map[string]func(){"p2pcam": main})
}

// buildFirst builds binPath around the tests' run.
type buildFirst struct{ m *testing.M }

func (b buildFirst) Run() int {
	dir, err := os.MkdirTemp("", "p2pcam-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "p2pcam")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building p2pcam:", err)
		return 1
	}
	return b.m.Run()
}

// loopback keeps every test on lo with no STUN server.
var loopback = []string{"--ice-server", "none", "--interface", "lo"}

// proc is a running p2pcam with its streams.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout lines (blobs)
	stdout *bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func start(t *testing.T, ctx context.Context, name string, rawStdout bool, args ...string) *proc {
	t.Helper()
	return startArgv(t, ctx, name, rawStdout, append([]string{binPath}, args...))
}

// startEnv is start with variables added to p2pcam's environment, for
// tests that run side by side (t.Setenv would reach every test's p2pcam).
func startEnv(t *testing.T, ctx context.Context, name string, env []string, args ...string) *proc {
	t.Helper()
	argv := append(append([]string{"env"}, env...), binPath)
	return startArgv(t, ctx, name, false, append(argv, args...))
}

// startArgv is start for any command line, e.g. p2pcam run through
// `ip netns exec`.
func startArgv(t *testing.T, ctx context.Context, name string, rawStdout bool, argv []string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, lines: make(chan string, 4), done: make(chan error, 1)}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir = t.TempDir()
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.stderr.Write(b)
	})
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if rawStdout {
		p.stdout = &bytes.Buffer{}
		go func() { io.Copy(p.stdout, out); p.done <- p.cmd.Wait() }()
	} else {
		go func() {
			sc := bufio.NewScanner(out)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); line != "" {
					p.lines <- line
				}
			}
			p.done <- p.cmd.Wait()
		}()
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, p.errText())
		}
	})
	return p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// blob waits for the next line on stdout.
func (p *proc) blob(ctx context.Context) string {
	p.t.Helper()
	select {
	case l := <-p.lines:
		return l
	case err := <-p.done:
		p.t.Fatalf("%s exited before printing a blob: %v\n%s", p.name, err, p.errText())
	case <-ctx.Done():
		p.t.Fatalf("%s printed no blob\n%s", p.name, p.errText())
	}
	return ""
}

// blobFile waits for p's blob and writes it, one line, to a file in a
// new temporary directory, for the other side's --remote; it returns the
// file's path.
func (p *proc) blobFile(ctx context.Context) string {
	p.t.Helper()
	path := filepath.Join(p.t.TempDir(), "offer.txt")
	if err := os.WriteFile(path, []byte(p.blob(ctx)+"\n"), 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// paste writes a blob the way a terminal paste arrives: wrapped at 76
// columns, ending with Enter.
func (p *proc) paste(blob string) {
	p.t.Helper()
	var b strings.Builder
	for len(blob) > 76 {
		b.WriteString(blob[:76] + "\n")
		blob = blob[76:]
	}
	b.WriteString(blob + "\n")
	if _, err := io.WriteString(p.stdin, b.String()); err != nil {
		p.t.Fatalf("paste into %s: %v", p.name, err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(ctx context.Context) int {
	p.t.Helper()
	select {
	case err := <-p.done:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		p.t.Fatalf("%s: %v", p.name, err)
	case <-ctx.Done():
		// Ask Go for a goroutine dump so the hang can be diagnosed.
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
		p.t.Fatalf("%s did not exit\n%s", p.name, p.errText())
	}
	return -1
}

// waitFor waits until the process's stderr contains s.
func (p *proc) waitFor(ctx context.Context, s string) {
	p.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(p.errText(), s) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			p.t.Fatalf("%s never said %q\n%s", p.name, s, p.errText())
		}
	}
}

func TestCallRecordsFile(t *testing.T) {
	testutil.NeedFFmpeg(t)
	tests := []struct {
		name      string
		w, h      int
		file      string
		duration  time.Duration
		blobFlags []string
	}{
		{"webm vga compact blobs", 640, 480, "call.webm", 3 * time.Second, nil},
		{"ivf 320x240 pion blobs", 320, 240, "call.ivf", 2 * time.Second, []string{"--blob-format", "pion"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			offerArgs := append([]string{"offer", "--source", "test", "--width", strconv.Itoa(tc.w), "--height", strconv.Itoa(tc.h),
				"--duration", tc.duration.String()}, loopback...)
			offer, answer := call(t, ctx, callSpec{
				offerArgs:  append(offerArgs, tc.blobFlags...),
				answerArgs: append([]string{"answer", "-o", tc.file}, loopback...),
			})
			waitOK(ctx, offer, answer)
			path := filepath.Join(answer.cmd.Dir, tc.file)
			got := testutil.Probe(t, path)
			want := int(tc.duration.Seconds() * 30)
			if got.Codec != "vp8" || got.Width != tc.w || got.Height != tc.h || got.Frames < want*7/10 || got.Frames > want*13/10 {
				t.Fatalf("recording = %s %dx%d %d frames; want vp8 %dx%d about %d frames", got.Codec, got.Width, got.Height, got.Frames, tc.w, tc.h, want)
			}
			testutil.DecodesCleanly(t, path)
			for _, p := range []*proc{offer, answer} {
				if !strings.Contains(p.errText(), "connected over host/udp") {
					t.Errorf("%s did not name the candidate pair:\n%s", p.name, p.errText())
				}
			}
		})
	}
}

func TestInterruptLeavesPlayableFile(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "cut.webm", "--stats", "stats.jsonl"}, loopback...),
	})
	answer.waitFor(ctx, "receiving 640x480 video")
	// Let some video arrive (a status line a second reports it), then
	// press Ctrl-C on the answer.
	waitStatsFrames(t, ctx, filepath.Join(answer.cmd.Dir, "stats.jsonl"), 20)
	if err := answer.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := answer.wait(ctx); code != 0 {
		t.Fatalf("answer exited %d after Ctrl-C; want 0\n%s", code, answer.errText())
	}
	// The offer hears the hang-up and ends by itself.
	if code := offer.wait(ctx); code != 0 {
		t.Fatalf("offer exited %d after the other side hung up\n%s", code, offer.errText())
	}
	path := filepath.Join(answer.cmd.Dir, "cut.webm")
	got := testutil.Probe(t, path)
	if got.Codec != "vp8" || got.Width != 640 || got.Height != 480 || got.Frames < 15 {
		t.Fatalf("recording = %s %dx%d %d frames", got.Codec, got.Width, got.Height, got.Frames)
	}
	testutil.DecodesCleanly(t, path)
}

// waitStatsFrames waits until a --stats file reports at least n frames
// received.
func waitStatsFrames(t *testing.T, ctx context.Context, path string, n int) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var st struct {
			FramesRecv int `json:"frames_recv"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err == nil && st.FramesRecv >= n {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s never reported %d frames received", path, n)
		}
	}
}

func TestVideoToStdoutPipe(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// With video on stdout, the answer blob goes to stderr (call reads it
	// there: the blob exchange itself is under test).
	offer, answer := call(t, ctx, callSpec{
		offerArgs:      append([]string{"offer", "--source", "test", "--width", "320", "--height", "240", "--duration", "2s"}, loopback...),
		answerArgs:     append([]string{"answer", "-o", "-"}, loopback...),
		answerToStdout: true,
	})
	waitOK(ctx, offer, answer)
	got := testutil.ProbeData(t, answer.stdout.Bytes())
	if got.Codec != "vp8" || got.Width != 320 || got.Height != 240 || got.Frames < 40 {
		t.Fatalf("piped video = %s %dx%d %d frames", got.Codec, got.Width, got.Height, got.Frames)
	}
}

// firstLine returns the first line of text that starts with prefix, or "".
func firstLine(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
