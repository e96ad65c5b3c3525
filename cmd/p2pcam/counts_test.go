package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// countLine is the part of a --stats line that counts frames: the
// end-to-end tests compare frames received with frames sent after an
// event, not with what a clock says should have come (under -race and
// -parallel 4 the sender's rate is not the nominal one).
type countLine struct {
	T          float64 `json:"t"`
	FramesSent int     `json:"frames_sent"`
	FramesRecv int     `json:"frames_recv"`
	FPSRecv    float64 `json:"fps_recv"`
	Final      bool    `json:"final"`
}

// readCounts returns the whole lines of the --stats file at path so far
// (a line still being written is left out); none before the file exists.
func readCounts(t *testing.T, path string) []countLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []countLine
	for l := range strings.Lines(string(b)) {
		if !strings.HasSuffix(l, "\n") {
			break
		}
		var c countLine
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("%s: stats line %q: %v", path, l, err)
		}
		out = append(out, c)
	}
	return out
}

// waitCounts waits until the --stats file at path has a line for which
// ok is true, and returns the first such line.
func waitCounts(t *testing.T, ctx context.Context, path, what string, ok func(countLine) bool) countLine {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		lines := readCounts(t, path)
		for _, c := range lines {
			if ok(c) {
				return c
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s: no line with %s: %+v", path, what, lines)
		}
	}
}

// finalCounts returns the final line of the --stats file at path, whose
// counts are the whole call's.
func finalCounts(t *testing.T, path string) countLine {
	t.Helper()
	lines := readCounts(t, path)
	if len(lines) == 0 || !lines[len(lines)-1].Final {
		t.Fatalf("%s: no final line: %+v", path, lines)
	}
	return lines[len(lines)-1]
}

// countsAt returns the last line of the --stats file at path for second at
// of the call or before it (by t): the counts that side had then. Both
// sides of a call on one machine start t within milliseconds of each
// other, so their lines for the same second line up.
func countsAt(t *testing.T, path string, at float64) countLine {
	t.Helper()
	var c countLine
	for _, l := range readCounts(t, path) {
		if l.Final || l.T > at+0.5 {
			break
		}
		c = l
	}
	return c
}

// lastCounts returns the newest line of the --stats file at path.
func lastCounts(t *testing.T, path string) countLine {
	t.Helper()
	lines := readCounts(t, path)
	if len(lines) == 0 {
		t.Fatalf("%s: no lines yet", path)
	}
	return lines[len(lines)-1]
}
