//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseCompare(t *testing.T) {
	tests := []struct {
		file    string
		want    []encoderRow
		wantErr error
	}{
		{"compare.log", []encoderRow{{640, 480, 2.34, 2.29}, {1280, 720, 6.79, 6.72}, {1920, 1080, 14.42, 14.38}}, nil},
		{"compare-skipped.log", nil, errNoFigure},
		{"compare-zero.log", nil, errNoFigure},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := parseCompare(f)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseStats(t *testing.T) {
	tests := []struct {
		file      string
		lines     int
		finalT    float64
		finalSent uint64
		measured  bool
		wantErr   error
	}{
		{file: "offer.jsonl", lines: 2, finalT: 3, finalSent: 91},
		{file: "answer.jsonl", lines: 3, finalT: 3, measured: true},
		{file: "offer-nofinal.jsonl", lines: 1, finalT: 2, finalSent: 60}, // last line stands in
		{file: "empty.jsonl", wantErr: errNoFigure},
		{file: "truncated.jsonl", wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			lines, final, err := parseStats(f)
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != tt.lines || final.T != tt.finalT || final.FramesSent != tt.finalSent {
				t.Errorf("got %d lines, final t=%v sent=%d; want %d, %v, %d", len(lines), final.T, final.FramesSent, tt.lines, tt.finalT, tt.finalSent)
			}
			if got := final.LatencyP50 != nil && final.PSNR != nil; got != tt.measured {
				t.Errorf("measured figures present: %v, want %v", got, tt.measured)
			}
		})
	}
}

// errAny stands for any error in tables.
var errAny = errors.New("any error")

func TestMeanSendBps(t *testing.T) {
	lines := []snapshot{{T: 1, SendBps: 100}, {T: 2, SendBps: 200}, {T: 3, SendBps: 1000}, {T: 4, SendBps: 2000}}
	tests := []struct {
		skip  float64
		want  float64
		wantN int
	}{
		{0, 825, 4},
		{2, 1500, 2},
		{4, 0, 0},
	}
	for _, tt := range tests {
		got, n := meanSendBps(lines, tt.skip)
		if got != tt.want || n != tt.wantN {
			t.Errorf("skip %v: got %v over %d lines, want %v over %d", tt.skip, got, n, tt.want, tt.wantN)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "stat-spaces.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"command with spaces", string(b), 1870 * time.Millisecond, false},
		{"no parenthesis", "12 p2pcam S 1", 0, true},
		{"short", "12 (p2pcam) S 1 2 3", 0, true},
		{"not numbers", "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x y", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestReadProcOfItself reads this test's own /proc files: the CPU time only
// grows and the resident memory is plausible.
func TestReadProcOfItself(t *testing.T) {
	a, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := range 20_000_000 { // burn a little CPU
		x += i % 7
	}
	b, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if b.cpu < a.cpu || a.rssKB < 1024 || b.rssKB > 1<<30 {
		t.Errorf("samples %+v then %+v (x=%d)", a, b, x)
	}
	if _, err := readProc(-1); err == nil {
		t.Error("reading a process that cannot exist gave no error")
	}
}

func TestCPUAndRSS(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	samples := []procSample{
		{at(0), 0, 10 << 10},
		{at(1000), 900 * time.Millisecond, 20 << 10}, // start-up, before the first frame
		{at(2000), 1000 * time.Millisecond, 30 << 10},
		{at(4000), 1500 * time.Millisecond, 31 << 10},
		{at(7000), 2200 * time.Millisecond, 32 << 10},
		{at(12000), 3500 * time.Millisecond, 33 << 10},
	}
	tests := []struct {
		name    string
		from    time.Time
		wantPct float64
		wantRSS []float64
	}{
		{"from the first frame", at(1500), 25, []float64{30, 32, 33}},
		{"from the start", at(0), 100 * 3.5 / 12, []float64{10, 32, 33}}, // 0 s, first at/after 5 s, after 10 s
		{"after the last sample", at(20000), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pct, rss := cpuAndRSS(samples, tt.from, 5*time.Second)
			if d := pct - tt.wantPct; d > 1e-9 || d < -1e-9 {
				t.Errorf("CPU %v%%, want %v%%", pct, tt.wantPct)
			}
			if !equal(rss, tt.wantRSS) {
				t.Errorf("RSS %v, want %v", rss, tt.wantRSS)
			}
		})
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
		{[]time.Duration{140, 90, 300, 100, 120}, 120},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"1M", 1e6, false},
		{"2.5M", 2.5e6, false},
		{"800k", 800e3, false},
		{"1500000", 1.5e6, false},
		{"", 0, true},
		{"fast", 0, true},
		{"-1M", 0, true},
	}
	for _, tt := range tests {
		got, err := parseRate(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFirstFrameLine(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"receiving 640x480 video (first frame 56 ms after connecting)", true},
		{"p2pcam: receiving 1280x720 video (first frame 3 ms after connecting)", true},
		{"received 91 frames (30.1 fps, 1.5Mb/s), 0 packets lost", false},
		{"recording to /tmp/r.webm", false},
	}
	for _, tt := range tests {
		if got := isFirstFrameLine(tt.line); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.line, got, tt.want)
		}
	}
}

// TestReportGoals builds a report from the recorded call and checks the
// table's verdicts and that every row has a cell per size.
func TestReportGoals(t *testing.T) {
	open := func(name string) procFigures {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var p procFigures
		if p.stats, p.final, err = parseStats(f); err != nil {
			t.Fatal(err)
		}
		return p
	}
	offer, answer := open("offer.jsonl"), open("answer.jsonl")
	r := &report{
		encoder: []encoderRow{{640, 480, 2, 2}, {1280, 720, 6, 5}},
		pastes:  []time.Duration{200 * time.Millisecond, 90 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, sz := range sizes {
		r.calls = append(r.calls, callResult{spec: callSpec{w: sz.w, h: sz.h, bitrate: "1.5M", duration: 3 * time.Second}, offer: offer, answer: answer})
	}
	res := callResult{spec: callSpec{w: 1280, h: 720, bitrate: "2.5M", duration: 30 * time.Second}, offer: offer, answer: answer}
	res.offer.cpuPct, res.offer.peakRSSMB, res.answer.peakRSSMB = 40, 50, 90
	r.resources = &res

	want := map[string]string{
		"call fps sent/received":                       "PASS", // 30.2 sent, 30.1 received
		"call sender encode, % of a core":              "PASS", // 3.7 ms x 30.2 fps
		"glass-to-glass p50 ms":                        "PASS",
		"glass-to-glass p95 ms":                        "PASS",
		"  send rate off --bitrate":                    "n/a", // no per-second line after 2 s in a 3 s call
		"answer paste -> first frame ms (median of 3)": "PASS",
		"30 s call: offer CPU, % of a core":            "MISS",
		"  peak RSS MB offer / answer":                 "MISS",
		"  p2pcam at 30 fps, % of a core":              "n/a", // no 1080p row
		"encoder CPU ms/frame, p2pcam":                 "",
		"30 s call: answer CPU, % of a core":           "",
		"  RSS MB first frame -> +5 s -> end, offer":   "",
	}
	seen := map[string]bool{}
	for _, rw := range r.rows() {
		seen[rw.label] = true
		if v, ok := want[rw.label]; ok && v != rw.verdict {
			t.Errorf("%q: verdict %q, want %q (cells %q)", rw.label, rw.verdict, v, rw.cells)
		}
	}
	for label := range want {
		if !seen[label] {
			t.Errorf("no row %q", label)
		}
	}
	var out strings.Builder
	r.write(&out)
	if !strings.Contains(out.String(), "runs 200, 90, 100 ms") || strings.Count(out.String(), "\n") < 20 {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestCallWithBinary makes one short call with the built p2pcam (make
// build), as the bench does, and checks the harness's figures are there.
func TestCallWithBinary(t *testing.T) {
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "p2pcam"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no bin/p2pcam: run make build")
	}
	if testing.Short() {
		t.Skip("makes a call")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := runCall(ctx, callSpec{bin: bin, dir: t.TempDir(), w: 320, h: 240, fps: 30, bitrate: "500k",
		duration: 2 * time.Second, measure: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.pasteToFirst <= 0 || res.offer.final == nil || res.answer.final == nil {
		t.Fatalf("figures missing: %+v", res)
	}
	if res.offer.final.FramesSent == 0 || res.answer.final.FramesRecv == 0 || res.answer.final.LatencyP50 == nil {
		t.Errorf("offer final %+v, answer final %+v", *res.offer.final, *res.answer.final)
	}
	if res.offer.peakRSSMB <= 0 || res.answer.peakRSSMB <= 0 || len(res.offer.samples) == 0 {
		t.Errorf("no memory figures: offer %v MB, answer %v MB, %d samples", res.offer.peakRSSMB, res.answer.peakRSSMB, len(res.offer.samples))
	}
}

func TestParseMJPEG(t *testing.T) {
	tests := []struct {
		name    string
		log     string
		want    []mjpegRow
		wantErr error
	}{
		{name: "figures", log: "testdata/mjpeg-compare.log", want: []mjpegRow{
			{w: 1280, h: 720, ours: 4.51, ffmpeg: 5.31, sender: 9.36},
			{w: 1920, h: 1080, ours: 9.84, ffmpeg: 12.03, sender: 21.47},
		}},
		{name: "skipped", log: "testdata/compare-skipped.log", wantErr: errNoFigure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Open(tt.log)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := parseMJPEG(f)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
