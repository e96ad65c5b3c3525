//go:build cgo && linux

package mjpeg

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"golang.org/x/sys/unix"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// compareSizes are the sizes compared with ffmpeg, with the bitrate the
// whole-sender run encodes at (pkg/vp8's benchmark bitrates).
var compareSizes = []struct{ w, h, bitRate int }{
	{1280, 720, 2_500_000},
	{1920, 1080, 4_000_000},
}

// TestCompareWithFFmpeg prints ms per frame for decoding the same
// webcam-like MJPEG frames (ffmpeg's testsrc2 with sensor-like noise,
// 4:2:2, quality 3) with this package and with ffmpeg's MJPEG decoder,
// and the whole sender's cost per frame: decode and VP8 encode through
// the encoder's reader, as pkg/capture chains them. A measurement, not a
// check: it runs only when MJPEG_COMPARE_FFMPEG is set (to a frame count,
// or 1 for 150 frames):
//
//	MJPEG_COMPARE_FFMPEG=150 go test ./pkg/mjpeg -run CompareWithFFmpeg -v
//
// Ours is the decoding thread's CPU time (frames already in memory, the
// Huffman tables left out as a UVC camera sends them, so ours also pays
// for putting them back). ffmpeg's is the child's user+system time
// (rusage, -threads 1) for n frames minus 10, which removes start-up; it
// includes reading the files. Each figure is the median of three runs.
func TestCompareWithFFmpeg(t *testing.T) {
	env := os.Getenv("MJPEG_COMPARE_FFMPEG")
	if env == "" {
		t.Skip("set MJPEG_COMPARE_FFMPEG=<frames> to compare with ffmpeg")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	frames, err := strconv.Atoi(env)
	if err != nil || frames <= 10 {
		frames = 150
	}
	const base, runs = 10, 3
	for _, sz := range compareSizes {
		dir := t.TempDir()
		out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi",
			"-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30", sz.w, sz.h),
			"-vf", "noise=alls=8:allf=t", "-frames:v", strconv.Itoa(frames),
			"-pix_fmt", "yuvj422p", "-q:v", "3", "-huffman", "default",
			filepath.Join(dir, "%04d.jpg")).CombinedOutput()
		if err != nil {
			t.Fatalf("make frames: %v\n%s", err, out)
		}
		jpegs := make([][]byte, frames)
		size := 0
		for i := range jpegs {
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%04d.jpg", i+1)))
			if err != nil {
				t.Fatal(err)
			}
			jpegs[i] = stripDHT(t, b)
			size += len(b)
		}
		var ours, theirs, sender []float64
		for range runs {
			ours = append(ours, decodeCPU(t, jpegs))
			long := ffmpegDecodeCPU(t, dir, frames)
			short := ffmpegDecodeCPU(t, dir, base)
			theirs = append(theirs, float64((long-short).Microseconds())/1000/float64(frames-base))
			sender = append(sender, senderCPU(t, jpegs, sz.w, sz.h, sz.bitRate))
		}
		o, f, s := median(ours), median(theirs), median(sender)
		t.Logf("%dx%d 4:2:2 MJPEG, %d frames of %d KB: ours %.2f ms/frame, ffmpeg %.2f ms/frame, ours/ffmpeg %.2f",
			sz.w, sz.h, frames, size/frames/1000, o, f, o/f)
		t.Logf("%dx%d decode+encode at %d kbit/s: %.2f ms/frame, %.0f fps on one core",
			sz.w, sz.h, sz.bitRate/1000, s, 1000/s)
	}
}

// threadCPU is the calling thread's CPU time.
func threadCPU(t *testing.T) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// decodeCPU decodes every frame once and returns CPU ms per frame.
func decodeCPU(t *testing.T, jpegs [][]byte) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var img *image.YCbCr
	start := threadCPU(t)
	for _, b := range jpegs {
		if img, err = d.Decode(b, img); err != nil {
			t.Fatal(err)
		}
	}
	return float64((threadCPU(t) - start).Microseconds()) / 1000 / float64(len(jpegs))
}

func ffmpegDecodeCPU(t *testing.T, dir string, n int) time.Duration {
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-threads", "1",
		"-framerate", "30", "-i", filepath.Join(dir, "%04d.jpg"),
		"-frames:v", strconv.Itoa(n), "-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// senderCPU runs the frames through decode and p2pcam's VP8 encoder, the
// encoder pulling decoded pictures through its video.Reader as a camera
// track does, and returns the CPU ms per frame of that one thread.
func senderCPU(t *testing.T, jpegs [][]byte, w, h, bitRate int) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var pics [2]*image.YCbCr
	i := 0
	r := video.ReaderFunc(func() (image.Image, func(), error) {
		pic, err := d.Decode(jpegs[i%len(jpegs)], pics[i%2])
		pics[i%2] = pic
		i++
		return pic, func() {}, err
	})
	p := vp8.NewParams()
	p.BitRate = bitRate
	enc, err := p.BuildVideoEncoder(r, prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	start := threadCPU(t)
	for range jpegs {
		_, release, err := enc.Read()
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	return float64((threadCPU(t) - start).Microseconds()) / 1000 / float64(len(jpegs))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
