package session

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/signal"
)

// syncBuffer is a goroutine-safe strings.Builder for a session's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// side is one session running in this process, its blob streams wired to
// pipes.
type side struct {
	in     *io.PipeWriter
	out    *bufio.Reader
	errBuf *syncBuffer
	done   chan error
	res    Result
}

func runSide(ctx context.Context, cfg Config) *side {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &side{in: inW, out: bufio.NewReader(outR), errBuf: &syncBuffer{}, done: make(chan error, 1)}
	go func() {
		res, err := Run(ctx, cfg, IO{In: inR, Out: outW, Err: s.errBuf}, nil)
		s.res = res
		outW.Close()
		s.done <- err
	}()
	return s
}

func (s *side) blob(t *testing.T) string {
	t.Helper()
	line, err := s.out.ReadString('\n')
	if err != nil {
		t.Fatalf("no blob: %v\n%s", err, s.errBuf.String())
	}
	return line
}

func (s *side) wait(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("session failed: %v\n%s", err, s.errBuf.String())
		}
	case <-ctx.Done():
		t.Fatalf("session did not end\n%s", s.errBuf.String())
	}
}

func probe(t *testing.T, path string) (codec string, w, h, frames int) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed (make deps installs it)")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) != 4 {
		t.Fatalf("ffprobe: %q", out)
	}
	w, _ = strconv.Atoi(f[1])
	h, _ = strconv.Atoi(f[2])
	frames, _ = strconv.Atoi(f[3])
	return f[0], w, h, frames
}

// TestTwoSessions runs an offering and an answering session in this
// process over loopback, each direction of the exchange through a pipe,
// and checks the recording and the stats lines.
func TestTwoSessions(t *testing.T) {
	tests := []struct {
		name   string
		w, h   int
		format signal.Format
		output string
	}{
		{"compact blobs, webm", 320, 240, signal.FormatCompact, "out.webm"},
		{"pion blobs, ivf", 640, 480, signal.FormatPion, "out.ivf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dir := t.TempDir()
			base := Config{Interfaces: []string{"lo"}, Width: tc.w, Height: tc.h, FPS: 30}
			off := base
			off.Role, off.Source, off.Duration, off.BlobFormat = Offerer, capture.Source{Kind: capture.Test}, 2*time.Second, tc.format
			ans := base
			ans.Role, ans.Output, ans.Stats = Answerer, filepath.Join(dir, tc.output), filepath.Join(dir, "stats.jsonl")

			o := runSide(ctx, off)
			a := runSide(ctx, ans)
			if _, err := io.WriteString(a.in, o.blob(t)); err != nil {
				t.Fatal(err)
			}
			answer := a.blob(t)
			if tc.format == signal.FormatPion && strings.HasPrefix(answer, "p2pcam1:") {
				t.Fatalf("a pion-format offer got a compact answer: %q", answer)
			}
			if _, err := io.WriteString(o.in, answer); err != nil {
				t.Fatal(err)
			}
			o.wait(t, ctx)
			a.wait(t, ctx)

			codec, w, h, frames := probe(t, ans.Output)
			if codec != "vp8" || w != tc.w || h != tc.h || frames < 40 || frames > 75 {
				t.Fatalf("recording: %s %dx%d %d frames (%d sent); want vp8 %dx%d about 60\noffer:\n%s\nanswer:\n%s",
					codec, w, h, frames, o.res.FramesSent, tc.w, tc.h, o.errBuf.String(), a.errBuf.String())
			}
			if o.res.FramesSent < uint64(frames) || a.res.FramesRecv != uint64(frames) {
				t.Errorf("sent %d, received %d, file has %d", o.res.FramesSent, a.res.FramesRecv, frames)
			}
			codes := map[string]bool{}
			for _, s := range []*side{o, a} {
				m := regexp.MustCompile(`verification code: (\d{3} \d{3})\n`).FindStringSubmatch(s.errBuf.String())
				if m == nil {
					t.Fatalf("no verification code:\n%s", s.errBuf.String())
				}
				codes[m[1]] = true
			}
			if len(codes) != 1 {
				t.Errorf("the two sides show different verification codes: %v", codes)
			}
			checkStats(t, ans.Stats, uint64(frames))
		})
	}
}

func checkStats(t *testing.T, path string, frames uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("stats: %d lines; want one a second and a final one", len(lines))
	}
	var last map[string]any
	for _, l := range lines {
		last = nil
		if err := json.Unmarshal([]byte(l), &last); err != nil {
			t.Fatalf("stats line %q: %v", l, err)
		}
		for _, k := range []string{"t", "role", "state", "pair", "rtt_ms", "send_bps", "recv_bps", "fps_sent", "fps_recv",
			"frames_sent", "frames_recv", "packets_lost", "nack", "pli", "target_bps", "encode_ms"} {
			if _, ok := last[k]; !ok {
				t.Fatalf("stats line lacks %q: %s", k, l)
			}
		}
	}
	if last["final"] != true || last["role"] != "answer" || last["pair"] != "host/udp" {
		t.Fatalf("final line: %v", last)
	}
	if got := uint64(last["frames_recv"].(float64)); got != frames {
		t.Errorf("final frames_recv %d; the file has %d", got, frames)
	}
	if bps := last["recv_bps"].(float64); bps < 100_000 {
		t.Errorf("final recv_bps %.0f: implausibly low", bps)
	}
}

func TestDescribeCandidates(t *testing.T) {
	sdp := "v=0\r\na=candidate:1 1 udp 2130706431 10.0.0.2 5000 typ host\r\n" +
		"a=candidate:1 2 udp 2130706431 10.0.0.2 5001 typ host\r\n" +
		"a=candidate:2 1 udp 1694498815 203.0.113.9 6000 typ srflx raddr 10.0.0.2 rport 5000\r\n" +
		"a=candidate:3 1 udp 16777215 198.51.100.1 7000 typ relay raddr 203.0.113.9 rport 6000\r\n"
	if got, want := describeCandidates(sdp), "candidates: 1 host, 1 srflx, 1 relay"; got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
	if got := describeCandidates("v=0\r\n"); !strings.HasPrefix(got, "no candidates") {
		t.Fatalf("got %q", got)
	}
}
