//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// encoderRow is one size of pkg/vp8's TestCompareWithFFmpeg: median CPU
// milliseconds per frame of p2pcam's encoder and of ffmpeg's libvpx with
// the same settings on the same frames.
type encoderRow struct {
	w, h         int
	ours, ffmpeg float64
}

// compareEncoders runs pkg/vp8's ffmpeg comparison from its compiled test
// binary (in pkg/vp8, the directory go test would use) and parses its log.
func compareEncoders(ctx context.Context, testBin string, frames int) ([]encoderRow, error) {
	out, err := runCompare(ctx, testBin, "vp8", "VP8_COMPARE_FFMPEG", frames)
	if err != nil {
		return nil, err
	}
	rows, err := parseCompare(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out)
	}
	return rows, nil
}

// runCompare runs TestCompareWithFFmpeg from the compiled test binary of
// pkg/<pkg> (in that directory, where go test would run it) on frames
// frames, given through the environment variable env, and returns its log.
func runCompare(ctx context.Context, testBin, pkg, env string, frames int) ([]byte, error) {
	bin, err := filepath.Abs(testBin)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-test.run", "^TestCompareWithFFmpeg$", "-test.v", "-test.count", "1")
	cmd.Dir = filepath.Join("pkg", pkg)
	cmd.Env = append(os.Environ(), env+"="+strconv.Itoa(frames))
	killGroupOnCancel(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, out)
	}
	return out, nil
}

// parseVersus reads a comparison figure line's submatches m: width,
// height, ours and ffmpeg's figures, both of which must be positive.
func parseVersus(m []string, line string) (w, h int, ours, ffmpeg float64, err error) {
	w, _ = strconv.Atoi(m[1])
	h, _ = strconv.Atoi(m[2])
	var err1, err2 error
	ours, err1 = strconv.ParseFloat(m[3], 64)
	ffmpeg, err2 = strconv.ParseFloat(m[4], 64)
	if err1 != nil || err2 != nil || ours <= 0 || ffmpeg <= 0 {
		return 0, 0, 0, 0, fmt.Errorf("bad figure line %q: %w", line, errNoFigure)
	}
	return w, h, ours, ffmpeg, nil
}

// compareLine matches TestCompareWithFFmpeg's figure lines, e.g.
// "640x480 1000 kbit/s, 300 frames: ours 2.34 cpu-ms/frame, ffmpeg 2.29 ...".
var compareLine = regexp.MustCompile(`(\d+)x(\d+) .*ours ([0-9.]+) cpu-ms/frame, ffmpeg ([0-9.]+) cpu-ms/frame`)

// parseCompare reads the figure lines of TestCompareWithFFmpeg's -v log.
// A skipped test (no ffmpeg) or a log without figures is errNoFigure.
func parseCompare(r io.Reader) ([]encoderRow, error) {
	var rows []encoderRow
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := compareLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var row encoderRow
		var err error
		if row.w, row.h, row.ours, row.ffmpeg, err = parseVersus(m, sc.Text()); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no ours/ffmpeg lines in the comparison's log: %w", errNoFigure)
	}
	return rows, nil
}

// killGroupOnCancel runs cmd in its own process group and, when its
// context ends, kills the whole group, so helpers it started (ffmpeg) go
// with it.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
}
