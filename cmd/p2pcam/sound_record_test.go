package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestCallRecordsSound: the test beep sent beside the test pattern is
// recorded with it into one WebM (VP8 and Opus), both streams as long as
// the call, the sound decoding cleanly and beeping once a second.
func TestCallRecordsSound(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--audio", "test", "--width", "320", "--height", "240", "--duration", "4s"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
	})
	waitOK(ctx, offer, answer)
	path := filepath.Join(answer.cmd.Dir, "call.webm")
	testutil.DecodesCleanly(t, path)
	out, err := exec.Command("ffprobe", "-v", "error", "-count_packets",
		"-show_entries", "stream=codec_name,channels,sample_rate,nb_read_packets", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	streams := map[string][]string{}
	for _, l := range strings.Fields(string(out)) {
		f := strings.Split(l, ",")
		streams[f[0]] = f[1:]
	}
	t.Logf("ffprobe: %q", out)
	video, audio := streams["vp8"], streams["opus"]
	if len(video) == 0 || len(audio) < 3 {
		t.Fatalf("streams %v; want vp8 and opus", streams)
	}
	// Opus: 48 kHz mono, about 50 packets a second for the 4 s.
	if n, _ := strconv.Atoi(audio[2]); audio[0] != "48000" || audio[1] != "1" || n < 150 {
		t.Errorf("opus stream %v; want 48000 Hz mono and about 200 packets", audio)
	}
	// The beep: 100 ms of 1 kHz each second, so the decoded sound has
	// silences between beeps, about one a second.
	sd, err := exec.Command("ffmpeg", "-v", "info", "-nostats", "-i", path, "-map", "0:a", "-af", "silencedetect=n=-40dB:d=0.5", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg silencedetect: %v\n%s", err, sd)
	}
	if n := strings.Count(string(sd), "silence_end"); n < 2 {
		t.Errorf("%d beeps heard in the recording; want about 3\n%s", n, sd)
	}
}

// TestSoundOnlyCallIsRecorded: an offer of sound alone (no video
// section) is answered, and the answer records it: a WebM with one Opus
// stream as long as the call.
func TestSoundOnlyCallIsRecorded(t *testing.T) {
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "none", "--audio", "test", "--duration", "3s"}, loopback...),
		answerArgs: append([]string{"answer", "-o", "call.webm"}, loopback...),
	})
	waitOK(ctx, offer, answer)
	path := filepath.Join(answer.cmd.Dir, "call.webm")
	testutil.DecodesCleanly(t, path)
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name:format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 || fields[0] != "opus" {
		t.Fatalf("ffprobe: %q; want one opus stream and a duration", out)
	}
	if d, _ := strconv.ParseFloat(fields[1], 64); d < 2 || d > 4 {
		t.Errorf("recording lasts %.2f s; want about 3", d)
	}
}
