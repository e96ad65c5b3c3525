package capture

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// TestSenderOpenEndsWithTheContext: opening a named pipe that no writer
// opened yet ends when the context does.
func TestSenderOpenEndsWithTheContext(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "in.y4m")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() {
		s, err := OpenSender(ctx, SenderConfig{Video: Source{Kind: File, Arg: fifo}, VideoOptions: Options{Codec: vp8.Descriptor}})
		if err == nil {
			s.Close()
		}
		res <- err
	}()
	cancel()
	select {
	case err := <-res:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("OpenSender = %v; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OpenSender still waits for a writer after the context ended")
	}
}

// TestSenderEnds: a sender says the same thing for the same end,
// whatever the source: a stream that ends is ErrSourceEnded, Close is not
// a failure, and Close may be called again.
func TestSenderEnds(t *testing.T) {
	clipData, err := os.ReadFile("../../testdata/small.y4m")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     func() Source
		closeAt bool // close while it runs, instead of waiting for the end
		want    error
	}{
		{name: "stream ends", src: func() Source { return Source{Kind: File, Arg: "-", In: bytes.NewReader(clipData)} }, want: ErrSourceEnded},
		{name: "pattern closed", src: func() Source { return Source{Kind: Test} }, closeAt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenSender(context.Background(), SenderConfig{Video: tt.src(), VideoOptions: Options{Codec: vp8.Descriptor, Width: 64, Height: 48, FPS: 1000}})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(s.Tracks()); got != 1 {
				t.Fatalf("%d tracks; want 1", got)
			}
			if !s.Tracks()[0].Codec().Is(vp8.Descriptor.MimeType) {
				t.Fatalf("track codec %q", s.Tracks()[0].Codec().MimeType)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			if tt.closeAt {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-s.Done():
			case <-time.After(20 * time.Second):
				t.Fatal("the sender did not stop")
			}
			if err := s.Err(); !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("Err() = %v; want %v", err, tt.want)
			}
			for range 2 {
				if err := s.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			}
		})
	}
}

// TestSenderNeedsASource: nothing to send is an error, not an empty
// sender.
func TestSenderNeedsASource(t *testing.T) {
	if _, err := OpenSender(context.Background(), SenderConfig{}); !errors.Is(err, ErrNothingToSend) {
		t.Fatalf("OpenSender = %v; want ErrNothingToSend", err)
	}
}

// TestSenderCloseEndsAWaitingRead: Close ends a sender whose pipe has
// no writer sending (the writer keeps it open and stays silent), at
// once: Ctrl-C never waits for the next frame.
func TestSenderCloseEndsAWaitingRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	frame := append([]byte("YUV4MPEG2 W64 H48 F30:1 C420jpeg\nFRAME\n"), make([]byte, 64*48*3/2)...)
	if _, err := w.Write(frame); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSender(context.Background(), SenderConfig{Video: Source{Kind: File, Arg: "-", In: r}, VideoOptions: Options{Codec: vp8.Descriptor}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waits for the pipe's next frame")
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done is open after Close")
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err() = %v after Close; stopping is not a failure", err)
	}
}
