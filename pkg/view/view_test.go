package view

import (
	"errors"
	"fmt"
	"image"
	"os"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestCheck: no display, or no player, is said before anything starts.
func TestCheck(t *testing.T) {
	testutil.NeedCodec(t)
	fake := t.TempDir() + "/player"
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, display, wayland, player string
		want                           error
		missing                        string
	}{
		{name: "no display", player: fake, want: ErrNoDisplay},
		{name: "x11", display: ":0", player: fake},
		{name: "wayland", wayland: "wayland-0", player: fake},
		{name: "no player", display: ":0", player: "p2pcam-no-such-player", missing: "p2pcam-no-such-player"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DISPLAY", tt.display)
			t.Setenv("WAYLAND_DISPLAY", tt.wayland)
			err := Check(tt.player)
			var pm *PlayerMissingError
			switch {
			case tt.missing != "":
				if !errors.As(err, &pm) || pm.Name != tt.missing {
					t.Errorf("Check: %v; want the player %s missing", err, tt.missing)
				}
			case !errors.Is(err, tt.want):
				t.Errorf("Check: %v; want %v", err, tt.want)
			}
		})
	}
	for goos, want := range map[string]bool{"linux": true, "freebsd": true, "darwin": false, "windows": false} {
		if got := needsDisplayEnv(goos); got != want {
			t.Errorf("needsDisplayEnv(%s) = %v; want %v", goos, got, want)
		}
	}
}

// TestPlayerFailure: a player that fails says so, with its last line.
func TestPlayerFailure(t *testing.T) {
	testutil.NeedCodec(t)
	fake := t.TempDir() + "/player"
	script := "#!/bin/sh\necho 'a banner' >&2\necho 'Could not initialize SDL - No available video device' >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := Start(Options{Player: fake})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("Done not closed after the player exited")
	}
	var pe *PlayerError
	if err := w.Close(); !errors.As(err, &pe) || pe.Status != 1 || pe.Tail != "Could not initialize SDL - No available video device" {
		t.Errorf("Close: %v; want a PlayerError with status 1 and the player's last line", err)
	}
}

// TestAppendFrame: pictures of the stream's size go as they are, others
// are scaled to it.
func TestAppendFrame(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 4, 2), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = byte(i)
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = byte(100+i), byte(200+i)
	}
	tests := []struct {
		w, h int
		want string
	}{
		{4, 2, "FRAME\n" + string([]byte{0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 200, 201})},
		{2, 2, "FRAME\n" + string([]byte{0, 2, 4, 6, 100, 200})},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.w, tt.h), func(t *testing.T) {
			if got := string(appendFrame(nil, img, tt.w, tt.h)); got != tt.want {
				t.Errorf("appendFrame = %q; want %q", got, tt.want)
			}
		})
	}
}
