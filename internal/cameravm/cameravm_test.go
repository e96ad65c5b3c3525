package cameravm

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestCameraInVM runs scripts/camera-vm/run.sh, which boots a kernel with
// vivid's virtual camera under qemu and runs p2pcam inside it, then judges
// the files the guest sent back. It boots a VM for half a minute or more
// and installs packages as root, so it runs only with P2PCAM_CAMERA_VM=1.
func TestCameraInVM(t *testing.T) {
	if os.Getenv("P2PCAM_CAMERA_VM") != "1" {
		t.Skip("boots qemu with vivid's virtual camera (~1 min warm, ~2 min cold, root); set P2PCAM_CAMERA_VM=1 to run it (or make camera-test)")
	}
	testutil.NeedFFmpeg(t)
	ctx := t.Context()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		defer cancel()
	}
	out := t.TempDir()
	cmd := exec.CommandContext(ctx, "../../scripts/camera-vm/run.sh")
	cmd.Env = append(os.Environ(), "OUT="+out)
	cmd.WaitDelay = 5 * time.Second
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	err := cmd.Run()
	t.Logf("run.sh said:\n%s", log.String())
	if err != nil {
		t.Errorf("run.sh: %v", err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("the guest sent no %s: %v", name, err)
		}
		return string(b)
	}
	rc := func(name string) int {
		n, err := strconv.Atoi(strings.TrimSpace(read(name)))
		if err != nil {
			return -1
		}
		return n
	}

	t.Run("devices lists vivid", func(t *testing.T) {
		text := read("devices.txt")
		if !strings.HasPrefix(text, "video0  (--source camera:video0)\n") {
			t.Errorf("devices does not start with video0:\n%s", text)
		}
		if !regexp.MustCompile(`(?m)^  YUYV +640x360 +@ 40, 30,`).MatchString(text) {
			t.Errorf("no YUYV 640x360 up to 40 fps:\n%s", text)
		}
		var devs []struct {
			Label   string `json:"label"`
			Formats []struct {
				PixelFormat string  `json:"pixel_format"`
				Width       int     `json:"width"`
				Height      int     `json:"height"`
				FPS         float32 `json:"fps"`
			} `json:"formats"`
		}
		if err := json.Unmarshal([]byte(read("devices.json")), &devs); err != nil || len(devs) != 1 {
			t.Fatalf("devices --json: %d devices, %v", len(devs), err)
		}
		pix := map[string]bool{}
		for _, f := range devs[0].Formats {
			pix[f.PixelFormat] = true
		}
		for _, p := range []string{"YUYV", "UYVY", "I420", "NV12", "NV21"} {
			if !pix[p] {
				t.Errorf("devices --json lacks %s: %v", p, pix)
			}
		}
	})

	t.Run("call records the camera", func(t *testing.T) {
		if c := rc("call.offer.rc"); c != 0 {
			t.Errorf("offer exit %d:\n%s", c, read("call.offer.err"))
		}
		if c := rc("call.answer.rc"); c != 0 {
			t.Errorf("answer exit %d:\n%s", c, read("call.answer.err"))
		}
		// vivid reports what p2pcam's constraints (640x360, 30 fps) chose.
		format := strings.TrimSpace(read("call.format"))
		if !regexp.MustCompile(`^(YUYV|UYVY|NV12|I420|YU12|NV21) 640x360 @ 30 fps$`).MatchString(format) {
			t.Errorf("camera set to %q, want 640x360 at 30 fps", format)
		}
		path := filepath.Join(out, "call.ivf")
		info := checkIVF(t, path)
		// 3 s at 30 fps asked; an emulated CPU encodes fewer. Function,
		// not speed: enough frames to show the camera kept delivering.
		if info.Frames < 15 {
			t.Errorf("only %d frames", info.Frames)
		}
		t.Logf("call: camera %s; %v; guest said %s", format, info, strings.TrimSpace(read("call.ivfinfo")))
	})

	t.Run("camera disconnect ends the call with an error", func(t *testing.T) {
		events := read("fault.events")
		t.Logf("events:\n%s", events)
		if strings.Contains(events, "still running") || strings.Contains(events, "no video before") || strings.Contains(events, "vmtool:") {
			t.Errorf("the disconnect was not injected, or the offer did not end by itself after it")
		}
		offerErr := read("fault.offer.err")
		for _, e := range []string{offerErr, read("fault.answer.err")} {
			if strings.Contains(e, "panic:") || strings.Contains(e, "goroutine ") {
				t.Errorf("crash:\n%s", e)
			}
		}
		if c := rc("fault.offer.rc"); c != 1 {
			t.Errorf("offer exit %d, want 1", c)
		}
		if e := errorLine(offerErr); !regexp.MustCompile(`^p2pcam: video source failed: .*device`).MatchString(e) {
			t.Errorf("offer's error line %q, want p2pcam: video source failed: ...", e)
		}
		if c := rc("fault.answer.rc"); c != 0 {
			t.Errorf("answer exit %d:\n%s", c, read("fault.answer.err"))
		}
		info := checkIVF(t, filepath.Join(out, "fault.ivf"))
		t.Logf("fault: %v; offer ended %.2f s after the disconnect", info, eventGap(events, "Disconnect=0", "offer ended"))
	})

	t.Run("hiccups do not end the call", func(t *testing.T) {
		events := read("hiccup.events")
		t.Logf("events:\n%s", events)
		if strings.Contains(events, "vmtool:") || strings.Contains(events, "still running") {
			t.Errorf("the faults were not injected, or the call did not end")
		}
		if c := rc("hiccup.offer.rc"); c != 0 {
			t.Errorf("offer exit %d after an errored buffer and a failed QBUF:\n%s", c, read("hiccup.offer.err"))
		}
		if c := rc("hiccup.answer.rc"); c != 0 {
			t.Errorf("answer exit %d:\n%s", c, read("hiccup.answer.err"))
		}
		t.Logf("hiccup: %v", checkIVF(t, filepath.Join(out, "hiccup.ivf")))
	})

	t.Run("a camera that stops delivering ends the call with an error", func(t *testing.T) {
		events := read("stall.events")
		t.Logf("events:\n%s", events)
		if strings.Contains(events, "still running") || strings.Contains(events, "vmtool:") {
			t.Errorf("offer did not end by itself after the camera went silent")
		}
		offerErr := read("stall.offer.err")
		if strings.Contains(offerErr, "panic:") || strings.Contains(offerErr, "goroutine ") {
			t.Errorf("crash:\n%s", offerErr)
		}
		if c := rc("stall.offer.rc"); c != 1 {
			t.Errorf("offer exit %d, want 1", c)
		}
		if e := errorLine(offerErr); !strings.HasPrefix(e, "p2pcam: video source failed: ") {
			t.Errorf("offer's error line %q, want p2pcam: video source failed: ...", e)
		}
		info := checkIVF(t, filepath.Join(out, "stall.ivf"))
		t.Logf("stall: %v; offer ended %.2f s after the camera went silent", info,
			eventGap(events, "Percentage of Dropped Buffers=100", "offer ended"))
	})

	t.Run("an MJPEG webcam without Huffman tables", func(t *testing.T) {
		t.Logf("feeder: %s", read("feed.out"))
		offerErr := read("mjpeg.offer.err")
		if !regexp.MustCompile(`(?m)^camera: video1 MJPEG 640x360@15 \(asked 640x360@15\)$`).MatchString(offerErr) {
			t.Errorf("no mode line for the MJPEG camera:\n%s", offerErr)
		}
		if c := rc("mjpeg.offer.rc"); c != 0 {
			t.Errorf("offer exit %d:\n%s", c, offerErr)
		}
		if c := rc("mjpeg.answer.rc"); c != 0 {
			t.Errorf("answer exit %d:\n%s", c, read("mjpeg.answer.err"))
		}
		var final struct {
			Final   bool   `json:"final"`
			Dropped uint64 `json:"frames_dropped_camera"`
			Sent    uint64 `json:"frames_sent"`
		}
		for _, line := range strings.Split(strings.TrimSpace(read("mjpeg.stats")), "\n") {
			if err := json.Unmarshal([]byte(line), &final); err != nil {
				t.Fatalf("stats line %q: %v", line, err)
			}
		}
		if !final.Final || final.Dropped < 1 {
			t.Errorf("final stats line: %+v; want the cut-short frames counted in frames_dropped_camera", final)
		}
		path := filepath.Join(out, "mjpeg.ivf")
		info := checkIVFFormat(t, path)
		checkTestsrc2(t, path, info.Frames/2)
		t.Logf("mjpeg: %v; %d frames sent, %d dropped by the camera; other requests: %s",
			info, final.Sent, final.Dropped, read("mjpeg.modes"))
	})

	t.Run("camera by name", func(t *testing.T) {
		if name := strings.TrimSpace(read("byname.name")); name != "video0" {
			t.Errorf("devices printed name %q, want video0", name)
		}
		if e := read("byname.err"); !strings.Contains(e, "offer blob") {
			t.Errorf("--source camera:video0 did not get to the blob:\n%s", e)
		}
		if c := rc("missing.rc"); c != 1 {
			t.Errorf("--source camera:video9: exit %d, want 1", c)
		}
		if e := read("missing.err"); !strings.HasPrefix(e, "p2pcam: open source camera:video9: no camera found") {
			t.Errorf("--source camera:video9 said:\n%s", e)
		}
	})
}

// errorLine is the first "p2pcam: " line that is not a hint.
func errorLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "p2pcam: ") && !strings.HasPrefix(l, "p2pcam: hint: ") {
			return l
		}
	}
	return ""
}

// checkIVF is checkIVFFormat, then vivid's colour bars in the first and
// the middle frame.
func checkIVF(t *testing.T, path string) IVFInfo {
	t.Helper()
	info := checkIVFFormat(t, path)
	for _, n := range []int{0, info.Frames / 2} {
		checkColorBars(t, path, n)
	}
	return info
}

// checkTestsrc2 wants frame n of a 640x360 recording to look like one of
// the 30 testsrc2 frames run.sh fed the MJPEG camera (PSNR over RGB of
// the best match at least 20 dB): a misread or swapped chroma plane, or
// full-range samples sent as video range, falls below.
func checkTestsrc2(t *testing.T, path string, n int) {
	t.Helper()
	const size = 640 * 360 * 3
	got, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-vf", "select=eq(n\\,"+strconv.Itoa(n)+")",
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(got) != size {
		t.Fatalf("decode frame %d of %s: %d bytes, %v", n, path, len(got), err)
	}
	src, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15",
		"-frames:v", "30", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(src) != 30*size {
		t.Fatalf("testsrc2 frames: %d bytes, %v", len(src), err)
	}
	best := 0.0
	for i := range 30 {
		var se float64
		for j, v := range src[i*size : (i+1)*size] {
			d := float64(v) - float64(got[j])
			se += d * d
		}
		best = max(best, 10*math.Log10(255*255*size/max(se, 1)))
	}
	t.Logf("%s frame %d: best PSNR against the fed frames %.1f dB", filepath.Base(path), n, best)
	if best < 20 {
		t.Errorf("%s frame %d matches none of the fed frames (best PSNR %.1f dB)", filepath.Base(path), n, best)
	}
}

// checkIVFFormat reads an IVF recording with ReadIVF and with ffprobe,
// wants 640x360 VP8 starting with a keyframe, both counts equal, and
// every frame decoded cleanly by ffmpeg.
func checkIVFFormat(t *testing.T, path string) IVFInfo {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := ReadIVF(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if info.FourCC != "VP80" || info.Width != 640 || info.Height != 360 || info.KeyFrames < 1 {
		t.Errorf("%s: %v, want 640x360 VP8 with a keyframe", path, info)
	}
	if got, want := testutil.Probe(t, path), (testutil.Probed{Codec: "vp8", Width: 640, Height: 360, Frames: info.Frames}); got != want {
		t.Errorf("ffprobe %s: %+v, want %+v", path, got, want)
	}
	testutil.DecodesCleanly(t, path)
	return info
}

// colorBars are the colours of vivid's default test pattern, "75%
// Colorbar", left to right in 8 bars, as RGB.
var colorBars = [8][3]int{
	{191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0},
	{191, 0, 191}, {191, 0, 0}, {0, 0, 191}, {0, 0, 0},
}

// checkColorBars decodes frame n of a 640x360 recording and wants vivid's
// colour bars in it, below the text vivid prints at the top. Whatever
// pixel format p2pcam picked (it varies between runs), a swapped or
// misread chroma plane shows here as wrong colours.
func checkColorBars(t *testing.T, path string, n int) {
	t.Helper()
	const w, h, y = 640, 360, 300
	rgb, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-vf", "select=eq(n\\,"+strconv.Itoa(n)+")",
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(rgb) != w*h*3 {
		t.Errorf("decode frame %d of %s: %d bytes, %v", n, path, len(rgb), err)
		return
	}
	for i, want := range colorBars {
		x := i*w/8 + w/16
		o := (y*w + x) * 3
		got := [3]int{int(rgb[o]), int(rgb[o+1]), int(rgb[o+2])}
		for c := range 3 {
			if d := got[c] - want[c]; d < -40 || d > 40 {
				t.Errorf("%s frame %d: bar %d is RGB %v, want about %v", filepath.Base(path), n, i, got, want)
				break
			}
		}
	}
}

// eventGap returns the guest uptime between the lines of events starting
// with from and to, or -1.
func eventGap(events, from, to string) float64 {
	at := func(prefix string) float64 {
		for _, l := range strings.Split(events, "\n") {
			if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
				f := strings.Fields(rest)
				if len(f) == 0 {
					continue
				}
				if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
					return v
				}
			}
		}
		return -1
	}
	a, b := at(from), at(to)
	if a < 0 || b < 0 {
		return -1
	}
	return b - a
}
