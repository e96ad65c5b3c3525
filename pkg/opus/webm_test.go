//go:build cgo

package opus

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"

	"github.com/p2pcam/p2pcam/pkg/pcm"
)

// TestWebMWithTheDescriptorsHeadKeepsTheBeepOnTime muxes 2 s of the test
// beep into a WebM with Descriptor's CodecPrivate, CodecDelay and
// SeekPreRoll, and has ffmpeg decode it: ffmpeg trims the pre-skip, so
// the beeps start where the input had them, at samples 0 and 48000 (a
// wrong PreSkip would shift them), and the file holds 2 s less it.
func TestWebMWithTheDescriptorsHeadKeepsTheBeepOnTime(t *testing.T) {
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	in := make([]int16, 2*SampleRate)
	pcm.NewBeep(time.Unix(1_700_000_000, 0)).Read(in)
	enc := newEncoder(t, NewParams())
	pkts := encodeAll(t, enc, in)

	path := filepath.Join(t.TempDir(), "beep.webm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tracks := []webm.TrackEntry{{
		Name:         "Audio",
		TrackNumber:  1,
		TrackUID:     1,
		CodecID:      Descriptor.ContainerID,
		CodecPrivate: Descriptor.CodecPrivate(),
		CodecDelay:   uint64(Descriptor.CodecDelay.Nanoseconds()),
		SeekPreRoll:  uint64(Descriptor.SeekPreRoll.Nanoseconds()),
		TrackType:    2, // audio
		Audio:        &webm.Audio{SamplingFrequency: SampleRate, Channels: 1},
	}}
	ws, err := webm.NewSimpleBlockWriter(f, tracks,
		mkvcore.WithSegmentInfo(&webm.Info{TimecodeScale: 1_000_000, MuxingApp: "ebml-go", WritingApp: "p2pcam-test"}))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if _, err := ws[0].Write(true, int64(i*20), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws[0].Close(); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0",
		"-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "opus,48000,1" {
		t.Errorf("ffprobe says %q, want opus,48000,1", got)
	}
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg decode: %v\n%s", err, stderr.String())
	}
	got := make([]int16, len(raw)/2)
	for i := range got {
		got[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
	}
	if want := 2*SampleRate - PreSkip; len(got) != want {
		t.Errorf("ffmpeg decoded %d samples, want %d", len(got), want)
	}
	for _, want := range []int{0, SampleRate} {
		at := onset(got, max(0, want-2400))
		t.Logf("beep onset at sample %d, want %d", at, want)
		if math.Abs(float64(at-want)) > SampleRate/1000 {
			t.Errorf("beep onset at sample %d, want %d ± 1 ms", at, want)
		}
	}
}
