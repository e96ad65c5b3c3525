package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/mediamtx"
	"github.com/p2pcam/p2pcam/internal/testutil"
)

// checkSoundRecorded checks that path holds VP8 and 48 kHz Opus, at least
// secs seconds of sound, and the test beep heard at least twice.
func checkSoundRecorded(t *testing.T, path string, secs int) {
	t.Helper()
	testutil.DecodesCleanly(t, path)
	out, err := exec.Command("ffprobe", "-v", "error", "-count_packets",
		"-show_entries", "stream=codec_name,sample_rate,nb_read_packets", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	streams := map[string][]string{}
	for _, l := range strings.Fields(string(out)) {
		f := strings.Split(l, ",")
		streams[f[0]] = f[1:]
	}
	t.Logf("ffprobe %s: %q", filepath.Base(path), out)
	video, audio := streams["vp8"], streams["opus"]
	if len(video) == 0 || len(audio) < 2 {
		t.Fatalf("%s: streams %v; want vp8 and opus", path, streams)
	}
	// 20 ms Opus frames: 50 packets a second.
	if n, _ := strconv.Atoi(audio[1]); audio[0] != "48000" || n < secs*50*3/4 {
		t.Errorf("%s: opus stream %v; want 48000 Hz and about %d packets", path, audio, secs*50)
	}
	sd, err := exec.Command("ffmpeg", "-v", "info", "-nostats", "-i", path, "-map", "0:a", "-af", "silencedetect=n=-40dB:d=0.5", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg silencedetect: %v\n%s", err, sd)
	}
	if n := strings.Count(string(sd), "silence_end"); n < 2 {
		t.Errorf("%s: %d beeps heard; want one a second\n%s", path, n, sd)
	}
}

// TestServeSendsSound: offer --serve --audio test sends the beep to every
// viewer: a p2pcam viewer (answer --whep) records VP8 and Opus, and the
// served page in Chromium receives the sound, starts muted and unmutes
// with its button.
func TestServeSendsSound(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, page, whep := served(t, ctx, "--audio", "test", "--width", "320", "--height", "240")
	path := filepath.Join(t.TempDir(), "viewer.webm")
	v := start(t, ctx, "viewer", false, append([]string{"answer", "--whep", whep, "-o", path, "--duration", "4s"}, loopback...)...)
	waitOK(ctx, v)
	checkSoundRecorded(t, path, 3)

	c := openChromium(t, ctx, page)
	c.waitDecoded(ctx, 30)
	var st struct {
		Muted        bool `json:"muted"`
		Sound        bool `json:"sound"`
		AudioPackets int  `json:"audioPackets"`
	}
	for st.AudioPackets < 50 {
		if err := c.eval("p2pcamStats()", &st); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page received %d packets of sound: %+v", st.AudioPackets, st)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if !st.Muted || !st.Sound {
		t.Errorf("page: %+v; want the sound muted at first, with its unmute button shown", st)
	}
	var muted bool
	if err := c.eval("document.getElementById('sound').click(), document.querySelector('video').muted", &muted); err != nil || muted {
		t.Errorf("after the unmute button: muted %v (%v); want sound on", muted, err)
	}
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	if code := srv.wait(ctx); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}

// TestWHIPSoundThroughMediamtx: offer --whip --audio test publishes the
// beep beside the picture into mediamtx, and answer --whep records both
// out of it.
func TestWHIPSoundThroughMediamtx(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	srv := mediamtx.Start(t, mediamtx.Options{Publisher: &mtxPublisher})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub := publish(t, ctx, srv, "cam", "--audio", "test", "--width", "320", "--height", "240", "--duration", "20s")
	path := filepath.Join(t.TempDir(), "viewer.webm")
	v := start(t, ctx, "viewer", false, append([]string{"answer", "--whep", srv.WHEPURL("cam"), "-o", path, "--duration", "5s"}, loopback...)...)
	waitOK(ctx, v)
	checkSoundRecorded(t, path, 3)
	_ = pub.cmd.Process.Signal(syscall.SIGINT)
	waitOK(ctx, pub)
}

// TestAnswerSendsSoundToAPlayer: an offer that sends nothing (--source
// none, no microphone) asks for sound as a player, so the answering side's
// --audio test reaches its recording beside the video.
func TestAnswerSendsSoundToAPlayer(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "none", "--audio", "none", "-o", "back.webm"}, loopback...),
		answerArgs: append([]string{"answer", "--source", "test", "--audio", "test", "--width", "320", "--height", "240", "-o", "none", "--duration", "4s"}, loopback...),
	})
	waitOK(ctx, offer, answer)
	checkSoundRecorded(t, filepath.Join(offer.cmd.Dir, "back.webm"), 3)
}
