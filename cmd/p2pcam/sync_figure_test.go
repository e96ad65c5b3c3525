package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// TestRecordingLipSync measures lip sync in a recording: a call with
// `--source test --audio test` into a WebM, where the pattern stamps each
// frame with its capture time and the beep starts at each whole second of
// the same clock. For each whole second S the video says where S falls in
// the file: the first frame stamped at or after S, moved earlier by how
// much after S it was captured; the beep's onset in the decoded sound is
// where the audio puts S. The offset is the second minus the first
// (positive: the sound is late). The test fails only on an absurd median
// |offset| (over 200 ms: the tracks not synced at all); the figure itself
// is logged. The --stats lines of both sides carry the sound's figures.
// With P2PCAM_SYNC_FIGURES=1 the call lasts 15 s instead of 4, or as
// long as P2PCAM_SYNC_SECS says (e.g. 600), and the median offset of
// each minute is logged too: the recording follows every sender report,
// so clocks drifting apart must not show as a trend.
func TestRecordingLipSync(t *testing.T) {
	testutil.NeedFFmpeg(t)
	secs := 4
	if os.Getenv("P2PCAM_SYNC_FIGURES") == "1" {
		secs = 15
		if v := os.Getenv("P2PCAM_SYNC_SECS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 4 {
				t.Fatalf("P2PCAM_SYNC_SECS=%q: want a whole number of seconds, at least 4", v)
			}
			secs = n
		}
	}
	offsets, minutes := recordedCall(t, "test", secs)
	if secs > 60 {
		for i, m := range minutes {
			if len(m) > 0 {
				c := slices.Clone(m)
				slices.Sort(c)
				t.Logf("minute %d: median offset %.1f ms over %d s (min %.1f, max %.1f)", i+1, c[len(c)/2], len(c), c[0], c[len(c)-1])
			}
		}
	}
	want := secs - 2
	if secs > 60 {
		// A long call on a loaded machine has holes in the video at
		// some seconds (a frame stamped over 100 ms after the one before).
		want = secs * 9 / 10
	}
	if len(offsets) < want {
		t.Fatalf("%d whole seconds measured in a %d s call; want %d", len(offsets), secs, want)
	}
	abs := make([]float64, len(offsets))
	for i, o := range offsets {
		abs[i] = math.Abs(o)
	}
	slices.Sort(abs)
	med := abs[len(abs)/2]
	if secs <= 60 {
		t.Logf("lip sync over %d s: median |offset| %.1f ms, max %.1f ms (sound minus picture, per second: %.1f ms)",
			secs, med, abs[len(abs)-1], offsets)
	} else {
		t.Logf("lip sync over %d s: median |offset| %.1f ms, max %.1f ms", secs, med, abs[len(abs)-1])
	}
	if med > 200 {
		t.Errorf("median |offset| of sound and picture %.1f ms; want at most 200 ms (they are not synced)", med)
	}
}

// TestSenderReportsCarryCaptureTime records a call whose sound comes
// as a microphone's does: `--audio test` hands each 20 ms of the beep
// over when its last sample is due, 20 ms after its first. The sender's
// reports must pair RTP time with capture time (see capture.Track's
// CaptureLag and peer.SendTrack's), or the recording puts the sound
// 20 ms late. The test fails when the median offset is over 10 ms either
// way.
func TestSenderReportsCarryCaptureTime(t *testing.T) {
	testutil.NeedFFmpeg(t)
	offsets, _ := recordedCall(t, "test", 5)
	if len(offsets) < 3 {
		t.Fatalf("%d whole seconds measured in a 5 s call; want 3", len(offsets))
	}
	s := slices.Clone(offsets)
	slices.Sort(s)
	med := s[len(s)/2]
	t.Logf("microphone-like sound: median offset %.1f ms (sound minus picture, per second: %.1f ms)", med, offsets)
	if math.Abs(med) > 10 {
		t.Errorf("median offset of sound and picture %.1f ms; want within 10 ms (the sender reports do not carry the capture time)", med)
	}
}

// recordedCall records a secs-long call with `--source test --audio
// audio` into a WebM, checks both sides' --stats lines, and returns the
// recording's lip-sync offsets (see lipSync).
func recordedCall(t *testing.T, audio string, secs int) (offsets []float64, minutes [][]float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second+60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs: append([]string{"offer", "--source", "test", "--audio", audio, "--width", "320", "--height", "240",
			"--duration", fmt.Sprintf("%ds", secs), "--stats", "stats.jsonl"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "call.webm", "--stats", "stats.jsonl"}, loopback...),
	})
	waitOK(ctx, offer, answer)
	checkAudioStats(t, filepath.Join(offer.cmd.Dir, "stats.jsonl"), filepath.Join(answer.cmd.Dir, "stats.jsonl"))
	return lipSync(t, filepath.Join(answer.cmd.Dir, "call.webm"), 320, 240)
}

// checkAudioStats reads the final --stats lines of both sides: the
// sound's packets sent and received (about 50 a second), and its level,
// that of the beep (100 ms a second at half scale: about -19 dBFS).
func checkAudioStats(t *testing.T, offerStats, answerStats string) {
	t.Helper()
	var sent, recv struct {
		PacketsSent uint64  `json:"audio_packets_sent"`
		PacketsRecv uint64  `json:"audio_packets_recv"`
		Lost        uint64  `json:"audio_packets_lost"`
		Level       float64 `json:"audio_level_dbfs"`
		Concealed   float64 `json:"audio_concealed_ms"`
	}
	for _, f := range []struct {
		path string
		v    any
	}{{offerStats, &sent}, {answerStats, &recv}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), f.v); err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
	}
	t.Logf("--stats: sent %d audio packets; received %d, lost %d, concealed %.1f ms, level %.1f dBFS",
		sent.PacketsSent, recv.PacketsRecv, recv.Lost, recv.Concealed, recv.Level)
	if sent.PacketsSent < 100 || recv.PacketsRecv < sent.PacketsSent*8/10 || recv.PacketsRecv > sent.PacketsSent {
		t.Errorf("--stats: %d audio packets sent, %d received; want over 100, most of them received", sent.PacketsSent, recv.PacketsRecv)
	}
	if recv.Level < -40 || recv.Level > -10 {
		t.Errorf("--stats: received sound at %.1f dBFS; want about -19 (the beep)", recv.Level)
	}
}

// lipSync returns, for each whole second of the sender's clock found in
// the w×h recording at path, the beep's onset minus the second's place
// in the video, in ms; and the same grouped by the minute of the
// recording the second falls in.
func lipSync(t *testing.T, path string, w, h int) (offsets []float64, minutes [][]float64) {
	t.Helper()
	// The video: each frame's time in the file and its stamp. The
	// pictures are read one at a time (a 10-minute call is 2 GB of them).
	// (ffmpeg's rawvideo muxer complains of the ms time base; the
	// pictures come out whole all the same.)
	pts := probeTimes(t, path, "v")
	dec := exec.Command("ffmpeg", "-nostdin", "-v", "quiet", "-i", path, "-map", "0:v", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
	out, err := dec.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.Start(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	size := w * h * 3 / 2
	now := time.Now().UnixMilli()
	type stamped struct {
		ms  int64   // capture time, Unix ms
		pts float64 // in the file, s
	}
	var frames []stamped
	f := make([]byte, size)
	n := 0
	for ; ; n++ {
		if _, err := io.ReadFull(out, f); err != nil {
			break
		}
		if n >= len(pts) {
			continue
		}
		i := n
		img := &image.YCbCr{
			Y: f[:w*h], Cb: f[w*h : w*h*5/4], Cr: f[w*h*5/4:],
			YStride: w, CStride: w / 2,
			SubsampleRatio: image.YCbCrSubsampleRatio420,
			Rect:           image.Rect(0, 0, w, h),
		}
		if s, ok := pattern.Read(img); ok {
			// Millis is Unix ms modulo 2^32: unwrap it against now.
			frames = append(frames, stamped{ms: now - int64(uint32(now)-s.Millis), pts: pts[i]})
		}
	}
	if err := dec.Wait(); err != nil {
		t.Fatalf("ffmpeg decoding the video: %v", err)
	}
	if n != len(pts) {
		t.Fatalf("%d pictures decoded, %d frame times", n, len(pts))
	}
	if len(frames) < 2 {
		t.Fatalf("%d stamped frames in %s", len(frames), path)
	}
	// The sound, holes filled with silence, from its first frame's time.
	audioStart := probeTimes(t, path, "a")[0]
	pcmRaw := ffmpegOut(t, true, "-i", path, "-map", "0:a", "-af", "aresample=async=1:min_hard_comp=0.01", "-ac", "1", "-ar", "48000", "-f", "s16le", "-")
	samples := make([]int16, len(pcmRaw)/2)
	for i := range samples {
		samples[i] = int16(uint16(pcmRaw[2*i]) | uint16(pcmRaw[2*i+1])<<8) // #nosec G115: bytes to a sample
	}
	for sec := frames[0].ms/1000 + 1; sec*1000 <= frames[len(frames)-1].ms; sec++ {
		i := slices.IndexFunc(frames, func(f stamped) bool { return f.ms >= sec*1000 })
		if i < 0 || (i > 0 && frames[i].ms-frames[i-1].ms > 100) {
			continue // a hole in the video around the second
		}
		at := frames[i].pts - float64(frames[i].ms-sec*1000)/1000 // the second in the file, by the video
		// The beep's onset within 400 ms of it (beeps are 1 s apart).
		from := int((at - 0.4 - audioStart) * 48000)
		to := int((at + 0.4 - audioStart) * 48000)
		if from < 0 || to > len(samples) {
			continue
		}
		onset := -1
		for j := from; j < to; j++ {
			if samples[j] > 3277 || samples[j] < -3277 {
				onset = j
				break
			}
		}
		if onset < 0 {
			t.Errorf("no beep within 400 ms of second %d (at %.3f s in the file)", sec, at)
			continue
		}
		beep := audioStart + float64(onset)/48000
		o := math.Round((beep-at)*10000) / 10
		offsets = append(offsets, o)
		m := int(at / 60)
		for len(minutes) <= m {
			minutes = append(minutes, nil)
		}
		minutes[m] = append(minutes[m], o)
	}
	return offsets, minutes
}

// probeTimes returns the times in seconds of the frames of the first
// stream of kind v or a in the recording at path, in order.
func probeTimes(t *testing.T, path, kind string) []float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", kind+":0",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe frame times: %v", err)
	}
	var times []float64
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(strings.Trim(l, ","), 64)
		if err != nil {
			t.Fatalf("ffprobe frame time %q: %v", l, err)
		}
		times = append(times, v)
	}
	if len(times) == 0 {
		t.Fatalf("no %s frames in %s", kind, path)
	}
	return times
}

// ffmpegOut runs ffmpeg with args and returns its output, failing t
// when it fails or, if strict, prints any error message.
func ffmpegOut(t *testing.T, strict bool, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || (strict && stderr.Len() > 0) {
		t.Fatalf("ffmpeg %q: %v\n%s", args, err, stderr.String())
	}
	return out
}
