// Package testutil holds what p2pcam's tests share: judging recordings
// with the real ffprobe and ffmpeg, and skipping, with the reason, tests
// whose tools or codec this machine or build lacks; and a loopback
// address nothing listens on, for the unreachable-server cases; IVF files
// split into frames; a fixture file's text; a test server's output read
// line by line.
package testutil

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// NeedFFmpeg skips the test when ffprobe or ffmpeg is not installed.
func NeedFFmpeg(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffprobe", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs it)", tool)
		}
	}
}

// NeedCodec skips the test in a build without libvpx (CGO_ENABLED=0).
func NeedCodec(t testing.TB) {
	t.Helper()
	if !haveCodec {
		t.Skip("built without cgo: no libvpx to encode or decode VP8")
	}
}

// Probed is what ffprobe says of a recording's video stream.
type Probed struct {
	Codec         string
	Width, Height int
	Frames        int // frames decoded, counted by ffprobe -count_frames
}

// Probe judges the recording at path with ffprobe; it skips the test when
// ffprobe is missing and fails it when ffprobe cannot read the file.
func Probe(t testing.TB, path string) Probed {
	t.Helper()
	return probe(t, path, nil)
}

// ProbeData judges a recording that arrives through a pipe, as a player
// reading `-o -` would see it.
func ProbeData(t testing.TB, data []byte) Probed {
	t.Helper()
	return probe(t, "pipe:0", bytes.NewReader(data))
}

func probe(t testing.TB, in string, stdin io.Reader) Probed {
	t.Helper()
	NeedFFmpeg(t)
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", "-i", in)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", in, err, stderr.String())
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) != 4 {
		t.Fatalf("ffprobe %s: unexpected output %q", in, out)
	}
	var p Probed
	p.Codec = f[0]
	p.Width, _ = strconv.Atoi(f[1])
	p.Height, _ = strconv.Atoi(f[2])
	p.Frames, _ = strconv.Atoi(f[3])
	return p
}

// DecodesCleanlyData is DecodesCleanly for a recording read from a pipe.
func DecodesCleanlyData(t testing.TB, data []byte) {
	t.Helper()
	decodesCleanly(t, "pipe:0", bytes.NewReader(data))
}

// DecodesCleanly fails the test if ffmpeg reports anything decoding path.
// -enc_time_base -1 keeps the recording's own frame times: captured video
// is variable frame rate, and ffmpeg's default grid would complain about
// frames that share a slot.
func DecodesCleanly(t testing.TB, path string) {
	t.Helper()
	decodesCleanly(t, path, nil)
}

func decodesCleanly(t testing.TB, in string, stdin io.Reader) {
	t.Helper()
	NeedFFmpeg(t)
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", in, "-enc_time_base", "-1", "-f", "null", "-")
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg could not decode %s cleanly: %v\n%s", in, err, out)
	}
}

// ReadTrimmed returns the text of the file at path without its leading
// and trailing white space; it fails the test when the file cannot be
// read.
func ReadTrimmed(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
