//go:build cgo

package capture

import (
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// openFiles counts this process's descriptors open on path, from
// /proc/self/fd; it skips the test where that does not exist.
func openFiles(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list open files: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}

// clip writes content (the module's testdata/small.y4m when nil) to a file of the
// test's own, so the descriptors open on it are this test's.
func clip(t *testing.T, content []byte) string {
	t.Helper()
	if content == nil {
		var err error
		if content, err = os.ReadFile("../../testdata/small.y4m"); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "clip.y4m")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var errNoEncoder = errors.New("no encoder for you")

// failingEncoder is an encoder builder that always fails.
type failingEncoder struct{}

func (failingEncoder) RTPCodec() *codec.RTPCodec { return nil }

func (failingEncoder) BuildVideoEncoder(video.Reader, prop.Media) (codec.ReadCloser, error) {
	return nil, errNoEncoder
}

// TestY4MFileIsClosedWithTheTrack: a .y4m track's file is open exactly
// while the track is, however the track ends, and failed opens leave
// nothing open.
func TestY4MFileIsClosedWithTheTrack(t *testing.T) {
	tests := []struct {
		name    string
		content []byte // nil: a valid clip
		enc     codec.VideoEncoderBuilder
		start   bool
		closes  int
		wantErr error // from Open; nil: Open succeeds
	}{
		{name: "closed before Start", enc: vp8.NewParams(), closes: 1},
		{name: "closed twice before Start", enc: vp8.NewParams(), closes: 2},
		{name: "closed while playing", enc: vp8.NewParams(), start: true, closes: 1},
		{name: "encoder fails", enc: failingEncoder{}, wantErr: errNoEncoder},
		{name: "no frames", content: []byte("YUV4MPEG2 W64 H48 F10:1\n"), enc: vp8.NewParams(), wantErr: errNoFrames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := clip(t, tt.content)
			tr, err := Open(Source{Kind: File, Arg: path}, Options{Codec: vp8.Descriptor, Encoder: tt.enc, FPS: 1000})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open: %v; want %v", err, tt.wantErr)
				}
				if n := openFiles(t, path); n != 0 {
					t.Fatalf("after a failed Open, %d descriptors are open on the file", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := openFiles(t, path); n != 1 {
				t.Fatalf("after Open, %d descriptors are open on the file; want 1", n)
			}
			if tt.start {
				if err := tr.Start(); err != nil {
					t.Fatal(err)
				}
			}
			for i := range tt.closes {
				if err := tr.Close(); err != nil {
					t.Fatalf("Close #%d: %v", i+1, err)
				}
			}
			if n := openFiles(t, path); n != 0 {
				t.Fatalf("after Close, %d descriptors are open on the file", n)
			}
			if err := tr.Err(); err != nil {
				t.Fatalf("Err() = %v after Close; stopping is not a failure", err)
			}
		})
	}
}

// TestY4MCloseDuringReadEndsPlayback: Close from another goroutine, even
// in the middle of a Read, ends playback with io.EOF rather than a
// corrupt-file error, and closes the file.
func TestY4MCloseDuringReadEndsPlayback(t *testing.T) {
	path := clip(t, nil)
	s, err := openFile(path, 1e6)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if _, _, err := s.Read(); err != nil {
				ended <- err
				return
			}
			if i == 0 {
				close(first)
			}
		}
	}()
	<-first
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-ended; !errors.Is(err, io.EOF) {
		t.Fatalf("Read after Close = %v; want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := openFiles(t, path); n != 0 {
		t.Fatalf("%d descriptors still open on the file", n)
	}
}

// TestTrackClosesItsSourceOnce: whatever happens to the track, its
// source's close function runs exactly once.
func TestTrackClosesItsSourceOnce(t *testing.T) {
	tests := []struct {
		name   string
		enc    codec.VideoEncoderBuilder
		start  bool
		closes int
	}{
		{name: "newTrack fails", enc: failingEncoder{}},
		{name: "closed before Start", enc: vp8.NewParams(), closes: 1},
		{name: "closed after Start", enc: vp8.NewParams(), start: true, closes: 1},
		{name: "closed three times", enc: vp8.NewParams(), start: true, closes: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var closed atomic.Int32
			img := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
			src := video.ReaderFunc(func() (image.Image, func(), error) {
				if closed.Load() > 0 {
					return nil, func() {}, io.EOF
				}
				return img, func() {}, nil
			})
			closeSrc := func() error {
				closed.Add(1)
				return nil
			}
			tr, err := newTrack(src, closeSrc, vp8.Descriptor, tt.enc, prop.Media{Video: prop.Video{Width: 64, Height: 48, FrameRate: 30}})
			if err != nil {
				if !errors.Is(err, errNoEncoder) {
					t.Fatalf("newTrack: %v", err)
				}
			} else {
				if tt.start {
					if err := tr.Start(); err != nil {
						t.Fatal(err)
					}
				}
				for range tt.closes {
					if err := tr.Close(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if n := closed.Load(); n != 1 {
				t.Fatalf("the source was closed %d times; want once", n)
			}
		})
	}
}
