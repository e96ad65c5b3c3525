package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// openFile opens a .y4m file or named pipe at path.
func openFile(path string, fps float64) (*y4mSource, error) {
	return openY4M(context.Background(), Source{Kind: File, Arg: path}, fps)
}

func TestParseY4MHeader(t *testing.T) {
	i420 := func(w, h int, fps float64) y4mHeader { return y4mHeader{w: w, h: h, fps: fps, sx: 2, sy: 2, depth: 8} }
	with := func(h y4mHeader, f func(*y4mHeader)) y4mHeader { f(&h); return h }
	tests := []struct {
		header  string
		want    y4mHeader
		wantErr string
	}{
		{"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n", i420(640, 480, 30), ""},
		{"YUV4MPEG2 W1280 H720 F30000:1001\n", i420(1280, 720, 30000.0/1001), ""},
		{"YUV4MPEG2 W64 H48\n", i420(64, 48, 0), ""},
		{"YUV4MPEG2 W64 H48 C420mpeg2 XYSCSS=420MPEG2\n", i420(64, 48, 0), ""},
		{"YUV4MPEG2 W64 H48 C420paldv\n", i420(64, 48, 0), ""},
		// What ffmpeg's yuv4mpegpipe writes for the formats it takes.
		{"YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C422 XYSCSS=422 XCOLORRANGE=LIMITED\n", with(i420(64, 48, 30), func(h *y4mHeader) { h.sy = 1 }), ""},
		{"YUV4MPEG2 W64 H48 C444 XYSCSS=444 XCOLORRANGE=FULL\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.sx, h.sy, h.full = 1, 1, true }), ""},
		{"YUV4MPEG2 W64 H48 C411 XYSCSS=411\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.sx, h.sy = 4, 1 }), ""},
		{"YUV4MPEG2 W64 H48 Cmono XCOLORRANGE=FULL\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.sx, h.sy, h.full = 0, 0, true }), ""},
		{"YUV4MPEG2 W64 H48 Cmono16\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.sx, h.sy, h.depth = 0, 0, 16 }), ""},
		{"YUV4MPEG2 W64 H48 C444alpha XYSCSS=444\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.sx, h.sy, h.alpha = 1, 1, true }), ""},
		{"YUV4MPEG2 W64 H48 C420p10 XYSCSS=420P10\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.depth = 10 }), ""},
		{"YUV4MPEG2 W64 H48 C422p12\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.sy, h.depth = 1, 12 }), ""},
		{"YUV4MPEG2 W64 H48 C444p16\n", with(i420(64, 48, 0), func(h *y4mHeader) { h.sx, h.sy, h.depth = 1, 1, 16 }), ""},
		{"YUV4MPEG2 W64 H48 C410\n", y4mHeader{}, "colour space C410 is not supported"},
		{"YUV4MPEG2 W64 H48 C411p10\n", y4mHeader{}, "colour space C411p10 is not supported"},
		{"YUV4MPEG2 W64 H48 C420p7\n", y4mHeader{}, "colour space C420p7 is not supported"},
		{"YUV4MPEG2 W64 H48 It\n", y4mHeader{}, "interlaced"},
		{"YUV4MPEG2 W0 H48\n", y4mHeader{}, "bad picture size"},
		{"YUV4MPEG2 Wx H48\n", y4mHeader{}, `bad header field "Wx"`},
		{"RIFF....WAVE\n", y4mHeader{}, "not a YUV4MPEG2"},
		{"", y4mHeader{}, "EOF"},
		{"YUV4MPEG2 W64 H48" + strings.Repeat(" X", 1000) + "\n", y4mHeader{}, "line too long"},
	}
	for _, tc := range tests {
		name := tc.header
		if len(name) > 40 {
			name = name[:40]
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
	s, err := openFile(path, 1000) // fast playback
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

// ffmpegY4M runs ffmpeg with args and returns what it writes on stdout.
func ffmpegY4M(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-nostdin"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v", args, err)
	}
	return out
}

// TestY4MConvertsToI420: every layout ffmpeg's yuv4mpegpipe writes plays,
// as the video-range 8-bit I420 that ffmpeg itself converts the same file
// to (averaged differences of at most a level or two: the filters differ).
func TestY4MConvertsToI420(t *testing.T) {
	testutil.NeedFFmpeg(t)
	const w, h, frames = 320, 240, 2
	for _, pixfmt := range []string{"yuv420p", "yuv422p", "yuv444p", "yuv411p", "gray", "yuva444p",
		"yuvj420p", "yuvj422p", "yuvj444p", "yuv420p10le", "yuv422p10le", "yuv444p12le", "yuv422p16le", "gray10le"} {
		t.Run(pixfmt, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, pixfmt+".y4m")
			data := ffmpegY4M(t, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30", w, h), "-frames:v", fmt.Sprint(frames),
				"-pix_fmt", pixfmt, "-strict", "-1", "-f", "yuv4mpegpipe", "-")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			// ffmpeg's own reading of the file, to video-range I420.
			want := ffmpegY4M(t, "-i", path, "-vf", "scale=out_range=tv:flags=area", "-pix_fmt", "yuv420p", "-f", "rawvideo", "-")
			size := w * h * 3 / 2
			if len(want) != frames*size {
				t.Fatalf("ffmpeg gave %d bytes; want %d", len(want), frames*size)
			}
			s, err := openFile(path, 1000)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			for i := range frames {
				img, _, err := s.Read()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				y := img.(*image.YCbCr)
				if y.SubsampleRatio != image.YCbCrSubsampleRatio420 || y.Rect.Dx() != w || y.Rect.Dy() != h {
					t.Fatalf("frame %d is %v %v; want 4:2:0 %dx%d", i, y.SubsampleRatio, y.Rect, w, h)
				}
				ref := want[i*size : (i+1)*size]
				for _, p := range []struct {
					name      string
					got, want []byte
				}{
					{"Y", y.Y, ref[:w*h]},
					{"Cb", y.Cb, ref[w*h : w*h+w*h/4]},
					{"Cr", y.Cr, ref[w*h+w*h/4:]},
				} {
					tolerance := 1.5
					if pixfmt == "yuv411p" && p.name != "Y" {
						tolerance = 3
					}
					if d := meanAbsDiff(p.got, p.want); d > tolerance {
						t.Errorf("frame %d plane %s differs from ffmpeg's conversion by %.2f levels on average", i, p.name, d)
					}
				}
			}
		})
	}
}

func meanAbsDiff(a, b []byte) float64 {
	if len(a) != len(b) {
		return 255
	}
	var sum int
	for i := range a {
		d := int(a[i]) - int(b[i])
		sum += max(d, -d)
	}
	return float64(sum) / float64(len(a))
}

func TestOpenY4MRejectsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	const hdr = "YUV4MPEG2 W64 H48 F10:1\n"
	frame := "FRAME\n" + strings.Repeat("x", 64*48*3/2)
	tests := []struct {
		name, content, wantErr string
		truncated              bool
	}{
		{"no frames", hdr, "no frames", false},
		{"short frame", hdr + "FRAME\n" + strings.Repeat("x", 100), "cut short", true},
		{"cut after 2.5 frames", hdr + frame + frame + frame[:len(frame)/2], "ends after 2 whole frames", true},
		{"cut in a frame header", hdr + frame + "FRA", "ends after 1 whole frames, in a frame header", true},
		{"no frame marker", hdr + "GARBAGE\n", "expected a FRAME marker", false},
		{"no marker on the third frame", hdr + frame + frame + strings.Replace(frame, "FRAME", "FRANK", 1), "expected a FRAME marker after 2 frames", false},
		{"not y4m", "hello\n", "not a YUV4MPEG2", false},
		{"4:1:0", "YUV4MPEG2 W64 H48 C410\n" + frame, "colour space C410", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".y4m")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := openFile(p, 0)
			if err == nil {
				s.Close()
			}
			var fe *FileError
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &fe) || fe.Name != p {
				t.Fatalf("err = %v; want a FileError for %s containing %q", err, p, tc.wantErr)
			}
			if errors.Is(err, ErrTruncated) != tc.truncated {
				t.Fatalf("err = %v; truncated should be %v", err, tc.truncated)
			}
		})
	}
	if _, err := openFile(filepath.Join(dir, "missing.y4m"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

// y4mStream is a Y4M stream of n 64x48 frames, frame i filled with byte
// i+1, optionally followed by tail.
func y4mStream(n int, tail string) []byte {
	var b bytes.Buffer
	b.WriteString("YUV4MPEG2 W64 H48 F30:1 C420jpeg\n")
	for i := range n {
		b.WriteString("FRAME\n")
		b.Write(bytes.Repeat([]byte{byte(i + 1)}, 64*48*3/2))
	}
	b.WriteString(tail)
	return b.Bytes()
}

// TestY4MStreamPlaysOnce: a stream (standard input, a named pipe) plays
// its frames once, in order, and its end — also inside a frame, as when
// the writer is killed — is ErrSourceEnded; garbage is a FileError.
func TestY4MStreamPlaysOnce(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		frames  int
		wantErr error
	}{
		{"three frames", y4mStream(3, ""), 3, ErrSourceEnded},
		{"one frame", y4mStream(1, ""), 1, ErrSourceEnded},
		{"writer stopped inside a frame", y4mStream(2, "FRAME\n"+strings.Repeat("x", 500)), 2, ErrSourceEnded},
		{"writer stopped inside a frame line", y4mStream(2, "FRA"), 2, ErrSourceEnded},
		{"garbage after two frames", y4mStream(2, "GARBAGE\n"), 2, &FileError{}},
	}
	for _, tc := range tests {
		for _, via := range []string{"stdin", "fifo"} {
			t.Run(tc.name+" via "+via, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				src, write := streamSource(t, via)
				go write(tc.data)
				s, err := openY4M(ctx, src, 1000)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer s.Close()
				for i := range tc.frames {
					img, _, err := s.Read()
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					if y := img.(*image.YCbCr); y.Y[0] != byte(i+1) || y.Cr[len(y.Cr)-1] != byte(i+1) {
						t.Fatalf("frame %d holds %d; want %d", i, y.Y[0], i+1)
					}
				}
				_, _, err = s.Read()
				var fe *FileError
				switch want := tc.wantErr.(type) {
				case *FileError:
					if !errors.As(err, &fe) {
						t.Fatalf("after the frames: %v; want a FileError", err)
					}
				default:
					if !errors.Is(err, want) {
						t.Fatalf("after the frames: %v; want %v", err, want)
					}
				}
			})
		}
	}
}

// streamSource returns a Source reading a pipe (as standard input) or a
// named pipe, and the function that writes it whole and closes it.
func streamSource(t *testing.T, via string) (Source, func([]byte)) {
	t.Helper()
	if via == "stdin" {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); w.Close() })
		return Source{Kind: File, Arg: "-", In: r}, func(b []byte) { w.Write(b); w.Close() }
	}
	p := filepath.Join(t.TempDir(), "live")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return Source{Kind: File, Arg: p}, func(b []byte) {
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(b)
		w.Close()
	}
}

// TestY4MStreamWaitsEndWithContext: a named pipe with no writer, or a
// stream that never sends its header, holds openY4M only until ctx ends.
func TestY4MStreamWaitsEndWithContext(t *testing.T) {
	for _, via := range []string{"fifo with no writer", "stdin that never writes", "fifo that never writes"} {
		t.Run(via, func(t *testing.T) {
			var src Source
			switch via {
			case "stdin that never writes":
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close(); w.Close() })
				src = Source{Kind: File, Arg: "-", In: r}
			default:
				p := filepath.Join(t.TempDir(), "live")
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Fatal(err)
				}
				src = Source{Kind: File, Arg: p}
				if via == "fifo that never writes" {
					go func() {
						if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
							t.Cleanup(func() { w.Close() })
						}
					}()
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			opened := make(chan error, 1)
			go func() {
				s, err := openY4M(ctx, src, 0)
				if err == nil {
					s.Close()
				}
				opened <- err
			}()
			select {
			case err := <-opened:
				t.Fatalf("openY4M returned %v with nothing written", err)
			case <-time.After(200 * time.Millisecond):
			}
			cancel()
			select {
			case err := <-opened:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("openY4M = %v; want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("openY4M still waits after its context ended")
			}
		})
	}
}

// TestY4MStreamCloseEndsAWaitingRead: Close ends a Read that waits for a
// stream's writer, with io.EOF.
func TestY4MStreamCloseEndsAWaitingRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := w.Write(y4mStream(1, "")); err != nil {
		t.Fatal(err)
	}
	s, err := openY4M(context.Background(), Source{Kind: File, Arg: "-", In: r}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(); err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() { _, _, err := s.Read(); read <- err }()
	time.Sleep(50 * time.Millisecond) // let the Read wait for the writer
	s.Close()
	select {
	case err := <-read:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("Read = %v; want io.EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the waiting Read")
	}
}

func TestParseSource(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "live")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
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
		{"-", Source{Kind: File, Arg: "-"}, false},
		{fifo, Source{Kind: File, Arg: fifo}, false},
		{filepath.Dir(fifo), Source{}, true},
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

// BenchmarkY4MConvert measures turning one 1080p frame as stored into
// I420, for the layouts that need it.
func BenchmarkY4MConvert(b *testing.B) {
	for _, c := range []string{"422", "444", "422 XCOLORRANGE=FULL", "420p10", "mono"} {
		b.Run(strings.ReplaceAll(c, " ", "_"), func(b *testing.B) {
			hdr, err := parseY4MHeader(bufio.NewReader(strings.NewReader("YUV4MPEG2 W1920 H1080 F30:1 C" + c + "\n")))
			if err != nil {
				b.Fatal(err)
			}
			s := &y4mSource{hdr: hdr, raw: make([]byte, hdr.frameBytes())}
			if hdr.full {
				s.luma, s.chroma = rangeTables()
			}
			stored := make([]byte, len(s.raw))
			for i := range stored {
				stored[i] = byte(i * 7)
			}
			img := image.NewYCbCr(image.Rect(0, 0, hdr.w, hdr.h), image.YCbCrSubsampleRatio420)
			b.SetBytes(int64(len(s.raw)))
			for b.Loop() {
				copy(s.raw, stored) // high depths are packed in place
				s.convert(img)
			}
		})
	}
}

// TestY4MPlaysAtItsHeadersRate: a file plays at the rate its header says
// unless a rate is asked for, and at 30 fps when the header says none.
func TestY4MPlaysAtItsHeadersRate(t *testing.T) {
	frame := strings.Repeat("\x80", 16*16*3/2)
	tests := []struct {
		name   string
		header string
		ask    float64
		want   float64
	}{
		{"15 fps file, no rate asked", "YUV4MPEG2 W16 H16 F15:1 C420jpeg\n", 0, 15},
		{"NTSC file, no rate asked", "YUV4MPEG2 W16 H16 F30000:1001 C420jpeg\n", 0, 30000.0 / 1001},
		{"15 fps file, 25 asked", "YUV4MPEG2 W16 H16 F15:1 C420jpeg\n", 25, 25},
		{"no rate in the header", "YUV4MPEG2 W16 H16 C420jpeg\n", 0, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clip.y4m")
			if err := os.WriteFile(path, []byte(tc.header+"FRAME\n"+frame+"FRAME\n"+frame), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := openFile(path, tc.ask)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.fps != tc.want {
				t.Errorf("plays at %g fps; want %g", s.fps, tc.want)
			}
		})
	}
}
