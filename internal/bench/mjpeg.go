//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// mjpegRow is one size of pkg/mjpeg's TestCompareWithFFmpeg: CPU ms per
// frame decoding the same 4:2:2 MJPEG frames with p2pcam's decoder and
// with ffmpeg's, and p2pcam's decode + VP8 encode per frame.
type mjpegRow struct {
	w, h         int
	ours, ffmpeg float64
	sender       float64 // decode + encode, ms/frame; 0 if missing
}

// compareMJPEG runs pkg/mjpeg's ffmpeg comparison from its compiled test
// binary (in pkg/mjpeg) and parses its log.
func compareMJPEG(ctx context.Context, testBin string, frames int) ([]mjpegRow, error) {
	out, err := runCompare(ctx, testBin, "mjpeg", "MJPEG_COMPARE_FFMPEG", frames)
	if err != nil {
		return nil, err
	}
	rows, err := parseMJPEG(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out)
	}
	return rows, nil
}

var (
	// e.g. "1280x720 4:2:2 MJPEG, 150 frames of 274 KB: ours 4.51 ms/frame, ffmpeg 5.31 ms/frame, ..."
	mjpegLine = regexp.MustCompile(`(\d+)x(\d+) 4:2:2 MJPEG.*ours ([0-9.]+) ms/frame, ffmpeg ([0-9.]+) ms/frame`)
	// e.g. "1280x720 decode+encode at 2500 kbit/s: 9.36 ms/frame, ..."
	senderLine = regexp.MustCompile(`(\d+)x(\d+) decode\+encode .*: ([0-9.]+) ms/frame`)
)

// parseMJPEG reads the figure lines of TestCompareWithFFmpeg's -v log. A
// log without decode figures (skipped: no ffmpeg) is errNoFigure.
func parseMJPEG(r io.Reader) ([]mjpegRow, error) {
	var rows []mjpegRow
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := mjpegLine.FindStringSubmatch(sc.Text()); m != nil {
			var row mjpegRow
			var err error
			if row.w, row.h, row.ours, row.ffmpeg, err = parseVersus(m, sc.Text()); err != nil {
				return nil, err
			}
			rows = append(rows, row)
			continue
		}
		if m := senderLine.FindStringSubmatch(sc.Text()); m != nil {
			w, _ := strconv.Atoi(m[1])
			h, _ := strconv.Atoi(m[2])
			v, err := strconv.ParseFloat(m[3], 64)
			for i := range rows {
				if err == nil && rows[i].w == w && rows[i].h == h {
					rows[i].sender = v
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no MJPEG ours/ffmpeg lines in the comparison's log: %w", errNoFigure)
	}
	return rows, nil
}

// Goals for MJPEG cameras.
const (
	goalMJPEGRatio = 1.2  // p2pcam's decode within 1.2x of ffmpeg's
	goalSenderMs   = 33.3 // decode + encode of a 1080p frame within a 30 fps frame interval
)

// mjpegRows are the table rows for the MJPEG comparison.
func mjpegRows(rs []mjpegRow, add func(string, [3]string, string, string)) {
	var ours, theirs, ratio, sender [3]string
	worst, s1080 := 0.0, 0.0
	for _, e := range rs {
		i := sizeIndex(e.w, e.h)
		if i < 0 {
			continue
		}
		ours[i], theirs[i] = fmt.Sprintf("%.2f", e.ours), fmt.Sprintf("%.2f", e.ffmpeg)
		ratio[i] = fmt.Sprintf("%.2f", e.ours/e.ffmpeg)
		worst = max(worst, e.ours/e.ffmpeg)
		if e.sender > 0 {
			sender[i] = fmt.Sprintf("%.1f (%.0f fps)", e.sender, 1000/e.sender)
			if i == 2 {
				s1080 = e.sender
			}
		}
	}
	add("MJPEG decode ms/frame, p2pcam", ours, "", "")
	add("MJPEG decode ms/frame, ffmpeg", theirs, "", "")
	add("  p2pcam / ffmpeg", ratio, "< 1.2", verdict(worst > 0, worst < goalMJPEGRatio))
	add("MJPEG decode + VP8 encode ms/frame", sender, "1080p < 33 ms", verdict(s1080 > 0, s1080 < goalSenderMs))
}
