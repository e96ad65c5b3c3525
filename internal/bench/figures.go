//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// snapshot holds the fields of a p2pcam --stats line the table uses (the
// names are session.Snapshot's JSON contract).
type snapshot struct {
	T          float64  `json:"t"`
	Role       string   `json:"role"`
	Pair       string   `json:"pair"`
	SendBps    int64    `json:"send_bps"`
	FPSSent    float64  `json:"fps_sent"`
	FPSRecv    float64  `json:"fps_recv"`
	FramesSent uint64   `json:"frames_sent"`
	FramesRecv uint64   `json:"frames_recv"`
	TargetBps  int      `json:"target_bps"`
	EncodeMs   float64  `json:"encode_ms"`
	LatencyP50 *float64 `json:"latency_ms_p50"` // nil without --measure
	LatencyP95 *float64 `json:"latency_ms_p95"`
	LatencyMax *float64 `json:"latency_ms_max"`
	FrozenMs   *float64 `json:"frozen_ms"`
	PSNR       *float64 `json:"psnr_db"`
	Final      bool     `json:"final"`
}

// parseStats reads a --stats file: the per-second lines, and the final
// line (the last line when no line says "final": true). A file without a
// line is errNoFigure; a line that is not JSON is an error.
func parseStats(r io.Reader) (lines []snapshot, final *snapshot, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var s snapshot
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", n, err)
		}
		if s.Final {
			final = &s
			continue
		}
		lines = append(lines, s)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if final == nil {
		if len(lines) == 0 {
			return nil, nil, fmt.Errorf("no stats lines: %w", errNoFigure)
		}
		final = &lines[len(lines)-1]
		lines = lines[:len(lines)-1]
	}
	return lines, final, nil
}

// meanSendBps is the mean send rate of the per-second lines from t = skip
// on (the first seconds are the encoder settling), and how many lines that
// was.
func meanSendBps(lines []snapshot, skip float64) (float64, int) {
	var sum float64
	n := 0
	for _, s := range lines {
		if s.T > skip {
			sum += float64(s.SendBps)
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// procSample is one reading of a process's /proc files.
type procSample struct {
	at    time.Time
	cpu   time.Duration // user + system so far
	rssKB int64
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on Linux.
const clockTick = 10 * time.Millisecond

// readProc reads the CPU time and resident memory of process pid.
func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.cpu, err = parseStatCPU(string(stat)); err != nil {
		return s, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.rssKB, err = parseStatusKB(string(status), "VmRSS")
	return s, err
}

// parseStatCPU returns utime + stime from a /proc/PID/stat line. The
// command name in parentheses may hold spaces, so fields are counted from
// the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' in /proc stat line: %w", errNoFigure)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat line: %w", errNoFigure)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime %q %q: %w", f[11], f[12], errNoFigure)
	}
	return time.Duration(u+k) * clockTick, nil
}

// parseStatusKB returns a "Key:  N kB" figure of /proc/PID/status.
func parseStatusKB(status, key string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 2 && f[1] == "kB" {
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc status: %w", key, errNoFigure)
}

// cpuAndRSS derives a process's figures from its samples: CPU used from
// the first sample at or after from to the last sample, as a percentage of
// one core, and resident memory in MB at from, from+every, from+2*every...
// (the first sample at or after each mark).
func cpuAndRSS(samples []procSample, from time.Time, every time.Duration) (cpuPct float64, rssMB []float64) {
	i := slices.IndexFunc(samples, func(s procSample) bool { return !s.at.Before(from) })
	if i < 0 {
		return 0, nil
	}
	first, last := samples[i], samples[len(samples)-1]
	if wall := last.at.Sub(first.at); wall > 0 {
		cpuPct = 100 * float64(last.cpu-first.cpu) / float64(wall)
	}
	mark := from
	for _, s := range samples[i:] {
		if !s.at.Before(mark) {
			rssMB = append(rssMB, float64(s.rssKB)/1024)
			mark = mark.Add(every)
		}
	}
	return cpuPct, rssMB
}

// median returns the middle value (the mean of the two middle ones for an
// even count); 0 for none.
func median[T int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// machine describes where the figures were taken.
type machine struct {
	cores              int
	cpu, kernel, goVer string
	libvpx, ffmpeg     string
}

func describeMachine(ctx context.Context) machine {
	m := machine{cores: runtime.NumCPU(), goVer: runtime.Version(), cpu: "?", kernel: "?", libvpx: "?", ffmpeg: "?"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if v, ok := cpuModel(string(b)); ok {
			m.cpu = v
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.goVer = strings.TrimSpace(string(out)) // the toolchain that built p2pcam
	}
	if out, err := exec.CommandContext(ctx, "pkg-config", "--modversion", "vpx").Output(); err == nil {
		m.libvpx = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "ffmpeg", "-version").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) >= 3 {
			m.ffmpeg = f[2]
		}
	}
	return m
}

// cpuModel finds the "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo string) (string, bool) {
	for line := range strings.Lines(cpuinfo) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// loadAvg is the 1, 5 and 15 minute load averages, as /proc has them.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
