//go:build linux

package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report collects the measurements; write prints them as one table.
type report struct {
	machine               machine
	loadBefore, loadAfter string
	encoder               []encoderRow
	mjpeg                 []mjpegRow
	calls                 []callResult // one per size, with --measure
	pastes                []time.Duration
	resources             *callResult // 1280x720, recording, no --measure
}

// row is one line of the table: a figure at each size, its goal, and
// whether the figure meets it.
type row struct {
	label   string
	cells   [3]string // 640x480, 1280x720, 1920x1080
	goal    string
	verdict string
}

// Goals, as the project states them.
const (
	goalFPS1080      = 28.5 // 1080p30 sustained: at least 95% of 30 fps sent and received
	goalEncPct1080   = 40.0 // % of a core the 1080p encoder may use
	goalSenderPct720 = 35.0 // % of a core the 720p sender process may use
	goalP50          = 25.0 // ms, glass to glass at 720p
	goalP95          = 50.0
	goalPaste        = 150 * time.Millisecond
	goalRateErr      = 10.0 // % off --bitrate
	goalRSSMB        = 80.0 // peak resident memory at 720p, each side
	rateSkip         = 2.0  // seconds of each call left out of the send rate
)

// verdict is PASS or MISS, or n/a when the figure was not measured.
func verdict(measured, ok bool) string {
	switch {
	case !measured:
		return "n/a"
	case ok:
		return "PASS"
	}
	return "MISS"
}

func (r *report) rows() []row {
	var rows []row
	add := func(label string, cells [3]string, goal, v string) {
		rows = append(rows, row{label, cells, goal, v})
	}
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }

	// Encoder: pkg/vp8's comparison with ffmpeg.
	if len(r.encoder) > 0 {
		var ours, theirs, ratio, fpsOurs, fpsTheirs [3]string
		for _, e := range r.encoder {
			i := sizeIndex(e.w, e.h)
			if i < 0 {
				continue
			}
			ours[i], theirs[i] = f2(e.ours), f2(e.ffmpeg)
			ratio[i] = f2(e.ours / e.ffmpeg)
			fpsOurs[i], fpsTheirs[i] = fmt.Sprintf("%.0f", 1000/e.ours), fmt.Sprintf("%.0f", 1000/e.ffmpeg)
		}
		add("encoder CPU ms/frame, p2pcam", ours, "", "")
		add("encoder CPU ms/frame, ffmpeg libvpx", theirs, "", "")
		add("  p2pcam / ffmpeg", ratio, "", "")
		var pct30 [3]string
		var pct1080 *float64
		for _, e := range r.encoder {
			if i := sizeIndex(e.w, e.h); i >= 0 {
				v := e.ours * 30 / 10
				pct30[i] = fmt.Sprintf("%.0f%%", v)
				if i == 2 {
					pct1080 = &v
				}
			}
		}
		add("  p2pcam at 30 fps, % of a core", pct30, "1080p < 40%", verdict(pct1080 != nil, pct1080 != nil && *pct1080 < goalEncPct1080))
		add("encoder max fps (1000/ms), p2pcam", fpsOurs, "", "")
		add("encoder max fps (1000/ms), ffmpeg", fpsTheirs, "", "")
	}

	if len(r.mjpeg) > 0 {
		mjpegRows(r.mjpeg, add)
	}

	// Calls with --measure, one per size.
	if len(r.calls) > 0 {
		var frames, fps, enc, encPct, p50, p95, pmax, frozen, psnr, rate, target, rateErr, ocpu, acpu [3]string
		var fps1080, enc1080, p50720, p95720 *float64
		var rateErrs []float64
		for _, c := range r.calls {
			i := sizeIndex(c.spec.w, c.spec.h)
			if i < 0 || c.offer.final == nil || c.answer.final == nil {
				continue
			}
			o, a := c.offer.final, c.answer.final
			frames[i] = fmt.Sprintf("%d/%d", o.FramesSent, a.FramesRecv)
			fps[i] = fmt.Sprintf("%.1f/%.1f", o.FPSSent, a.FPSRecv)
			enc[i] = f1(o.EncodeMs)
			pct := o.EncodeMs * o.FPSSent / 10
			encPct[i] = fmt.Sprintf("%.0f%%", pct)
			ocpu[i] = fmt.Sprintf("%.0f%%", c.offer.cpuPct)
			acpu[i] = fmt.Sprintf("%.0f%%", c.answer.cpuPct)
			if i == 2 {
				v := min(o.FPSSent, a.FPSRecv)
				fps1080, enc1080 = &v, &pct
			}
			if a.LatencyP50 != nil {
				p50[i], p95[i], pmax[i] = f1(*a.LatencyP50), f1(*a.LatencyP95), f1(*a.LatencyMax)
				frozen[i], psnr[i] = fmt.Sprintf("%.0f", *a.FrozenMs), f1(*a.PSNR)
				if i == 1 {
					p50720, p95720 = a.LatencyP50, a.LatencyP95
				}
			}
			target[i] = fmt.Sprintf("%d", o.TargetBps/1000)
			bps, n := meanSendBps(c.offer.stats, rateSkip)
			if want, err := parseRate(c.spec.bitrate); err == nil && n > 0 {
				e := 100 * (bps/want - 1)
				rate[i] = fmt.Sprintf("%.0f/%.0f", bps/1000, want/1000)
				rateErr[i] = fmt.Sprintf("%+.1f%%", e)
				if i < 2 {
					rateErrs = append(rateErrs, e)
				}
			}
		}
		add("call frames sent/received", frames, "", "")
		add("call fps sent/received", fps, "1080p >= 28.5 both", verdict(fps1080 != nil, fps1080 != nil && *fps1080 >= goalFPS1080))
		add("call sender encode ms/frame", enc, "", "")
		add("call sender encode, % of a core", encPct, "1080p < 40%", verdict(enc1080 != nil, enc1080 != nil && *enc1080 < goalEncPct1080))
		add("call offer process CPU, % of a core", ocpu, "", "")
		add("call answer process CPU (decoding too)", acpu, "", "")
		add("glass-to-glass p50 ms", p50, "720p < 25", verdict(p50720 != nil, p50720 != nil && *p50720 < goalP50))
		add("glass-to-glass p95 ms", p95, "720p < 50", verdict(p95720 != nil, p95720 != nil && *p95720 < goalP95))
		add("glass-to-glass max ms", pmax, "", "")
		add("frozen ms / PSNR dB", joinCells(frozen, psnr), "", "")
		add("send kbit/s / --bitrate (after 2 s)", rate, "", "")
		ok := len(rateErrs) == 2
		for _, e := range rateErrs {
			ok = ok && e < goalRateErr && e > -goalRateErr
		}
		add("  encoder target kbit/s at the end", target, "", "")
		add("  send rate off --bitrate", rateErr, "1M, 2.5M within 10%", verdict(len(rateErrs) == 2, ok))
	}

	// Answer pasted -> first frame.
	if len(r.pastes) > 0 {
		m := median(r.pastes)
		add(fmt.Sprintf("answer paste -> first frame ms (median of %d)", len(r.pastes)),
			[3]string{fmt.Sprint(m.Milliseconds())}, "< 150", verdict(true, m < goalPaste))
	}

	// 720p resources over a longer call that records, as people use it.
	if c := r.resources; c != nil {
		secs := c.spec.duration.Seconds()
		add(fmt.Sprintf("%.0f s call: offer CPU, %% of a core", secs), [3]string{1: fmt.Sprintf("%.0f%%", c.offer.cpuPct)},
			"< 35%", verdict(true, c.offer.cpuPct < goalSenderPct720))
		add(fmt.Sprintf("%.0f s call: answer CPU, %% of a core", secs), [3]string{1: fmt.Sprintf("%.0f%%", c.answer.cpuPct)}, "", "")
		add("  peak RSS MB offer / answer", [3]string{1: fmt.Sprintf("%.0f / %.0f", c.offer.peakRSSMB, c.answer.peakRSSMB)},
			"< 80 each", verdict(c.offer.peakRSSMB > 0, max(c.offer.peakRSSMB, c.answer.peakRSSMB) < goalRSSMB))
		add("  RSS MB first frame -> +5 s -> end, offer", [3]string{1: rssGrowth(c.offer.rssMB)}, "", "")
		add("  RSS MB first frame -> +5 s -> end, answer", [3]string{1: rssGrowth(c.answer.rssMB)}, "", "")
	}
	return rows
}

// write prints the machine, the table and the notes.
func (r *report) write(w io.Writer) {
	m := r.machine
	fmt.Fprintf(w, "p2pcam bench: %d cores, %s, kernel %s, %s, libvpx %s, ffmpeg %s\n", m.cores, m.cpu, m.kernel, m.goVer, m.libvpx, m.ffmpeg)
	fmt.Fprintf(w, "load average before %s, after %s\n\n", r.loadBefore, r.loadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\t640x480\t1280x720\t1920x1080\tgoal\tverdict")
	for _, rw := range r.rows() {
		c := rw.cells
		for i := range c {
			if c[i] == "" {
				c[i] = "-"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rw.label, c[0], c[1], c[2], rw.goal, rw.verdict)
	}
	tw.Flush()

	fmt.Fprintln(w)
	if len(r.encoder) > 0 {
		fmt.Fprintln(w, "encoder: pkg/vp8 TestCompareWithFFmpeg, same frames and libvpx settings, CPU time, median of 3 runs")
	}
	if len(r.mjpeg) > 0 {
		fmt.Fprintln(w, "MJPEG: pkg/mjpeg TestCompareWithFFmpeg, same 4:2:2 frames (testsrc2 + noise, q 3; ours without Huffman tables and mapped to video range), CPU time, median of 3 runs;\n"+
			"  decode + encode = one thread decoding and VP8-encoding each frame (vp8 defaults, 2.5M / 4M)")
	}
	if len(r.calls) > 0 {
		c := r.calls[0]
		fmt.Fprintf(w, "calls: two p2pcam on loopback, --source test @30 fps, %s each (1M, 2.5M, 4M), answer --measure; figures from --stats final lines;\n"+
			"  send rate = mean send_bps (RTP payload + headers + retransmissions) of the per-second lines after %.0f s\n", c.spec.duration, rateSkip)
	}
	if len(r.pastes) > 0 {
		var ms []string
		for _, p := range r.pastes {
			ms = append(ms, fmt.Sprint(p.Milliseconds()))
		}
		fmt.Fprintf(w, "paste -> first frame: answer blob written to offer's stdin -> answer's \"receiving\" line on stderr; runs %s ms\n", strings.Join(ms, ", "))
	}
	if c := r.resources; c != nil {
		fmt.Fprintf(w, "resources: 1280x720@30 %s, answer recording .webm; CPU from /proc from the first frame to the end, peak RSS from rusage\n", c.spec.bitrate)
	}
	for _, c := range append(append([]callResult(nil), r.calls...), derefs(r.resources)...) {
		for _, n := range c.notes {
			fmt.Fprintln(w, "note:", n)
		}
	}
}

func derefs(c *callResult) []callResult {
	if c == nil {
		return nil
	}
	return []callResult{*c}
}

// sizeIndex is the column of a picture size, or -1.
func sizeIndex(w, h int) int {
	for i, s := range sizes {
		if s.w == w && s.h == h {
			return i
		}
	}
	return -1
}

func joinCells(a, b [3]string) [3]string {
	var c [3]string
	for i := range c {
		if a[i] != "" || b[i] != "" {
			c[i] = a[i] + " / " + b[i]
		}
	}
	return c
}

// rssGrowth shows resident memory at the first frame, 5 s later and at
// the end.
func rssGrowth(mb []float64) string {
	switch len(mb) {
	case 0:
		return ""
	case 1, 2:
		return fmt.Sprintf("%.0f -> %.0f", mb[0], mb[len(mb)-1])
	}
	return fmt.Sprintf("%.0f -> %.0f -> %.0f", mb[0], mb[1], mb[len(mb)-1])
}

// parseRate reads a --bitrate value: bits per second with an optional k or
// M suffix.
func parseRate(s string) (float64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad bitrate %q: %w", s, errNoFigure)
	}
	return v * mult, nil
}
