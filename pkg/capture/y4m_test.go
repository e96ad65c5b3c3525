package capture

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseY4MHeader(t *testing.T) {
	tests := []struct {
		header  string
		want    y4mHeader
		wantErr string
	}{
		{"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n", y4mHeader{640, 480, 30}, ""},
		{"YUV4MPEG2 W1280 H720 F30000:1001\n", y4mHeader{1280, 720, 30000.0 / 1001}, ""},
		{"YUV4MPEG2 W64 H48\n", y4mHeader{64, 48, 0}, ""},
		{"YUV4MPEG2 W64 H48 C444\n", y4mHeader{}, "colour space C444 is not supported"},
		{"YUV4MPEG2 W64 H48 C420p10\n", y4mHeader{}, "colour space C420p10 is not supported"},
		{"YUV4MPEG2 W64 H48 It\n", y4mHeader{}, "interlaced"},
		{"YUV4MPEG2 W0 H48\n", y4mHeader{}, "bad picture size"},
		{"YUV4MPEG2 Wx H48\n", y4mHeader{}, `bad header field "Wx"`},
		{"RIFF....WAVE\n", y4mHeader{}, "not a YUV4MPEG2"},
		{"", y4mHeader{}, "EOF"},
		{"YUV4MPEG2 W64 H48" + strings.Repeat(" X", 1000) + "\n", y4mHeader{}, "line too long"},
	}
	for _, tc := range tests {
		name := tc.header
		if len(name) > 30 {
			name = name[:30]
		}
		t.Run(name, func(t *testing.T) {
			got, err := parseY4MHeader(bufio.NewReader(strings.NewReader(tc.header)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestY4MSourceLoopsAndMatchesFFmpeg(t *testing.T) {
	const path = "../../testdata/small.y4m"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := openY4M(path, 1000) // fast playback
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	frameSize := 64 * 48 * 3 / 2
	hdrEnd := bytes.IndexByte(raw, '\n') + 1
	// Read seven frames from a five-frame file: the last two are the
	// first two again.
	for i := range 7 {
		img, _, err := s.Read()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		y := img.(*image.YCbCr)
		off := hdrEnd + (i%5)*(len("FRAME\n")+frameSize) + len("FRAME\n")
		if !bytes.Equal(y.Y[:64*48], raw[off:off+64*48]) {
			t.Fatalf("frame %d: luma differs from the file", i)
		}
	}
	s.Close()
	if _, _, err := s.Read(); !errors.Is(err, io.EOF) {
		t.Fatalf("Read after Close = %v; want io.EOF", err)
	}
}

func TestOpenY4MRejectsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, wantErr string
	}{
		{"no frames", "YUV4MPEG2 W64 H48 F10:1\n", "EOF"},
		{"short frame", "YUV4MPEG2 W64 H48 F10:1\nFRAME\n" + strings.Repeat("x", 100), "short frame"},
		{"no frame marker", "YUV4MPEG2 W64 H48 F10:1\nGARBAGE\n", "expected a FRAME marker"},
		{"not y4m", "hello\n", "not a YUV4MPEG2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".y4m")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := openY4M(p, 0)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v; want it to contain %q", err, tc.wantErr)
			}
		})
	}
	if _, err := openY4M(filepath.Join(dir, "missing.y4m"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct {
		in      string
		want    Source
		wantErr bool
	}{
		{"camera", Source{Kind: Camera}, false},
		{"camera:/dev/video2", Source{Kind: Camera, Arg: "/dev/video2"}, false},
		{"camera:", Source{}, true},
		{"test", Source{Kind: Test}, false},
		{"none", Source{Kind: None}, false},
		{"clip.Y4M", Source{Kind: File, Arg: "clip.Y4M"}, false},
		{"clip.mp4", Source{}, true},
		{"", Source{}, true},
	}
	for _, tc := range tests {
		got, err := ParseSource(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseSource(%q) = %+v, %v", tc.in, got, err)
		}
		if err == nil && got.String() != tc.in {
			t.Errorf("String() = %q; want %q", got.String(), tc.in)
		}
		if err != nil && !errors.Is(err, ErrBadSource) {
			t.Errorf("ParseSource(%q) error %v is not ErrBadSource", tc.in, err)
		}
	}
}

func TestPatternSourcePacesAndStops(t *testing.T) {
	s := newPatternSource(64, 48, 1000)
	for i := range 3 {
		img, _, err := s.Read()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 48 {
			t.Fatalf("size = %v", img.Bounds())
		}
	}
	s.Close()
	if _, _, err := s.Read(); !errors.Is(err, io.EOF) {
		t.Fatalf("Read after Close = %v; want io.EOF", err)
	}
}

func TestDeviceMatches(t *testing.T) {
	d := Device{ID: "73c0c44d-6e87", Label: "video0;video0"}
	for _, s := range []string{"73c0c44d-6e87", "video0;video0", "video0", "/dev/video0"} {
		if !d.Matches(s) {
			t.Errorf("%q does not match %+v", s, d)
		}
	}
	for _, s := range []string{"video1", "", "/dev/video1", "0"} {
		if d.Matches(s) {
			t.Errorf("%q matches %+v", s, d)
		}
	}
}
