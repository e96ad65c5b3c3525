//go:build cgo

package vp8

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/prop"
)

// TestCompareWithFFmpeg prints "ours vs ffmpeg" CPU time per frame for the
// benchmark sizes, encoding the same raw frames with the same libvpx
// settings. It is a measurement, not a check, so it runs only when
// VP8_COMPARE_FFMPEG is set (to a frame count, or 1 for 300 frames):
//
//	VP8_COMPARE_FFMPEG=300 go test ./pkg/vp8 -run CompareWithFFmpeg -v
//
// Ours is the thread CPU time inside vpx_codec_encode. ffmpeg's is the
// child's user+system time (rusage) for a run of n frames minus a run of
// 10, which removes start-up and probing; it still includes reading the
// .yuv file. Each figure is the median of three runs.
func TestCompareWithFFmpeg(t *testing.T) {
	env := os.Getenv("VP8_COMPARE_FFMPEG")
	if env == "" {
		t.Skip("set VP8_COMPARE_FFMPEG=<frames> to compare with ffmpeg")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	frames, err := strconv.Atoi(env)
	if err != nil || frames <= 1 {
		frames = 300
	}
	const base, runs = 10, 3
	for _, sz := range benchSizes {
		yuv := filepath.Join(t.TempDir(), "pattern.yuv")
		if err := writeYUV(yuv, sz.w, sz.h, frames); err != nil {
			t.Fatal(err)
		}
		var ours, theirs []float64
		for range runs {
			ours = append(ours, oursPerFrame(t, sz.w, sz.h, sz.bitRate, frames))
			long := ffmpegCPU(t, yuv, sz.w, sz.h, sz.bitRate, frames)
			short := ffmpegCPU(t, yuv, sz.w, sz.h, sz.bitRate, base)
			theirs = append(theirs, float64((long-short).Microseconds())/1000/float64(frames-base))
		}
		o, f := median(ours), median(theirs)
		t.Logf("%dx%d %4d kbit/s, %d frames: ours %.2f cpu-ms/frame, ffmpeg %.2f cpu-ms/frame, ours/ffmpeg %.2f",
			sz.w, sz.h, sz.bitRate/1000, frames, o, f, o/f)
	}
}

// writeYUV writes n frames of the pattern as raw I420.
func writeYUV(path string, w, h, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	p := newPattern(w, h)
	cw, ch := (w+1)/2, (h+1)/2
	for i := range n {
		img := p.frame(i)
		for y := range h {
			bw.Write(img.Y[y*img.YStride : y*img.YStride+w])
		}
		for _, plane := range [][]byte{img.Cb, img.Cr} {
			for y := range ch {
				bw.Write(plane[y*img.CStride : y*img.CStride+cw])
			}
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// oursPerFrame encodes the pattern and returns libvpx CPU ms per frame.
func oursPerFrame(t *testing.T, w, h, bitRate, n int) float64 {
	p := NewParams()
	p.BitRate = bitRate
	e, err := newEncoder(nil, p, prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: 30}}, wallClock())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pat := newPattern(w, h)
	for i := range n {
		_, release, _, err := e.encode(pat.frame(i), time.Duration(i)*time.Second/30)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	st := e.ctrl.Stats()
	return float64(st.EncodeCPU.Microseconds()) / 1000 / float64(n)
}

// ffmpegCPU encodes the first n frames of yuv with ffmpeg's libvpx wrapper
// set up like our encoder, and returns the child's CPU time (user+system).
// -g matters: ffmpeg's default GOP of 12 would make every twelfth frame a
// costly keyframe.
func ffmpegCPU(t *testing.T, yuv string, w, h, bitRate, n int) time.Duration {
	br := strconv.Itoa(bitRate)
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", fmt.Sprintf("%dx%d", w, h), "-r", "30", "-i", yuv,
		"-frames:v", strconv.Itoa(n),
		"-c:v", "libvpx", "-g", "3000", "-deadline", "realtime", "-cpu-used", "-6",
		"-b:v", br, "-minrate", br, "-maxrate", br,
		"-bufsize", br, "-rc_init_occupancy", strconv.Itoa(bitRate/2), // 1000 ms buffer, 500 ms initial
		"-qmin", "2", "-qmax", "56", "-threads", "1", "-lag-in-frames", "0", "-error-resilient", "1",
		"-static-thresh", "1", "-noise-sensitivity", "0", "-max-intra-rate", "900",
		"-undershoot-pct", "100", "-overshoot-pct", "15",
		"-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
