//go:build linux

// Command bench is the driver behind "make bench": it measures p2pcam on
// this machine and prints one table of figures next to their goals.
//
// It sits outside the call pipeline and uses p2pcam only from the outside:
// pkg/vp8's ffmpeg comparison (a compiled test binary) for the encoder,
// and the built p2pcam binary for whole calls on loopback with the
// synthetic source, reading --stats lines, stderr in real time and /proc.
// It is a benchmark, not a test: it asserts nothing and exits 0 whatever
// the figures, 1 if a measurement could not be made, 130 on Ctrl-C.
//
//	go build -o /tmp/bench ./internal/bench && /tmp/bench -bin bin/p2pcam
//
// Run it from the module root (scripts/bench.sh does).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the driver's flags.
type options struct {
	bin       string        // p2pcam binary
	vp8Test   string        // compiled pkg/vp8 test binary; empty skips the encoder rows
	mjpegTest string        // compiled pkg/mjpeg test binary; empty skips the MJPEG rows
	frames    int           // frames per encoder comparison run
	callLen   time.Duration // length of each latency call
	resLen    time.Duration // length of the 720p resource call
	pasteRuns int           // calls timed from paste to first frame
	skipCalls bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.bin, "bin", "bin/p2pcam", "p2pcam binary to measure")
	fs.StringVar(&o.vp8Test, "vp8-test", "", "pkg/vp8 test binary (go test -c ./pkg/vp8); empty skips the encoder rows")
	fs.StringVar(&o.mjpegTest, "mjpeg-test", "", "pkg/mjpeg test binary (go test -c ./pkg/mjpeg); empty skips the MJPEG rows")
	fs.IntVar(&o.frames, "frames", 300, "frames per encoder comparison run")
	fs.DurationVar(&o.callLen, "call", 12*time.Second, "length of each glass-to-glass call")
	fs.DurationVar(&o.resLen, "resources", 30*time.Second, "length of the 1280x720 CPU and memory call")
	fs.IntVar(&o.pasteRuns, "paste-runs", 5, "calls timed from answer paste to first frame (median)")
	fs.BoolVar(&o.skipCalls, "no-calls", false, "measure the encoder only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := bench(ctx, o, stdout, stderr); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "bench: interrupted")
			return 130
		}
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// bench runs every measurement in turn (never two at once: they would
// share the cores) and prints the table.
func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	dir, err := os.MkdirTemp("", "p2pcam-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	r := &report{machine: describeMachine(ctx), loadBefore: loadAvg()}
	if o.vp8Test != "" {
		progress("encoder vs ffmpeg, %d frames x 3 runs per size (about a minute)", o.frames)
		r.encoder, err = compareEncoders(ctx, o.vp8Test, o.frames)
		if err != nil {
			return fmt.Errorf("encoder comparison: %w", err)
		}
	}
	if o.mjpegTest != "" {
		progress("MJPEG decode vs ffmpeg and decode + encode, %d frames x 3 runs per size (about 40 s)", o.frames/2)
		r.mjpeg, err = compareMJPEG(ctx, o.mjpegTest, o.frames/2)
		if err != nil {
			return fmt.Errorf("MJPEG comparison: %w", err)
		}
	}
	if !o.skipCalls {
		if err := runCalls(ctx, o, dir, r, progress); err != nil {
			return err
		}
	}
	r.loadAfter = loadAvg()
	r.write(stdout)
	return nil
}

// runCalls makes the calls behind the call rows of the report.
func runCalls(ctx context.Context, o options, dir string, r *report, progress func(string, ...any)) error {
	for _, sz := range sizes {
		progress("%dx%d@30 %s call with --measure, %s", sz.w, sz.h, sz.bitrate, o.callLen)
		res, err := runCall(ctx, callSpec{bin: o.bin, dir: dir, w: sz.w, h: sz.h, fps: 30, bitrate: sz.bitrate,
			duration: o.callLen, measure: true})
		if err != nil {
			return fmt.Errorf("%dx%d call: %w", sz.w, sz.h, err)
		}
		r.calls = append(r.calls, res)
	}
	for i := range o.pasteRuns {
		progress("paste to first frame, 640x480, call %d of %d", i+1, o.pasteRuns)
		res, err := runCall(ctx, callSpec{bin: o.bin, dir: dir, w: 640, h: 480, fps: 30, bitrate: "1M",
			duration: 2 * time.Second})
		if err != nil {
			return fmt.Errorf("paste call %d: %w", i+1, err)
		}
		r.pastes = append(r.pastes, res.pasteToFirst)
	}
	progress("1280x720@30 2.5M call recording to .webm for CPU and memory, %s", o.resLen)
	res, err := runCall(ctx, callSpec{bin: o.bin, dir: dir, w: 1280, h: 720, fps: 30, bitrate: "2.5M",
		duration: o.resLen})
	if err != nil {
		return fmt.Errorf("resource call: %w", err)
	}
	r.resources = &res
	return nil
}

// sizes are the call sizes, with the bitrates pkg/vp8 benchmarks them at.
var sizes = []struct {
	w, h    int
	bitrate string
}{
	{640, 480, "1M"},
	{1280, 720, "2.5M"},
	{1920, 1080, "4M"},
}

// errNoFigure reports output that lacks a figure the table needs.
var errNoFigure = errors.New("figure missing from output")
