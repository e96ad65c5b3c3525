package view

import (
	"fmt"
	"image"
	"testing"
	"time"
)

// TestLetterbox: the picture fills the output as far as its aspect
// allows, centred, whatever the window's shape.
func TestLetterbox(t *testing.T) {
	tests := []struct {
		w, h, ow, oh int32
		want         image.Rectangle
	}{
		{1280, 720, 1280, 720, image.Rect(0, 0, 1280, 720)},
		{1280, 720, 640, 360, image.Rect(0, 0, 640, 360)},
		{1280, 720, 1000, 1000, image.Rect(0, 219, 1000, 781)}, // bars above and below
		{640, 480, 1920, 1080, image.Rect(240, 0, 1680, 1080)}, // bars left and right
		{640, 480, 0, 0, image.Rectangle{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d in %dx%d", tt.w, tt.h, tt.ow, tt.oh), func(t *testing.T) {
			if got := letterbox(tt.w, tt.h, tt.ow, tt.oh); got != tt.want {
				t.Errorf("letterbox = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestMeter: the overlay's figures are renewed once a second, and at
// once when the picture's size changes.
func TestMeter(t *testing.T) {
	var m meter
	t0 := time.Unix(1000, 0)
	if f, changed := m.add(t0, 1000, 640, 480); !changed || overlayText(f, nil, nil) != "640x480 0 fps\n0.00 Mbit/s" {
		t.Errorf("first frame: %+v, changed %v", f, changed)
	}
	for i := 1; i < 30; i++ {
		if _, changed := m.add(t0.Add(time.Duration(i)*time.Second/30), 10_000, 640, 480); changed {
			t.Fatalf("frame %d renewed the figures within the second", i)
		}
	}
	f, changed := m.add(t0.Add(time.Second), 10_000, 640, 480)
	if want := "640x480 31 fps\n2.41 Mbit/s"; !changed || overlayText(f, nil, nil) != want {
		t.Errorf("after a second: %+v (changed %v); want %q", f, changed, want)
	}
	if f, changed := m.add(t0.Add(1100*time.Millisecond), 10_000, 1280, 720); !changed || f.Width != 1280 {
		t.Errorf("new size: %+v, changed %v", f, changed)
	}
	if got := overlayText(figures{}, nil, nil); got != "waiting for a picture" {
		t.Errorf("no picture yet: %q", got)
	}
	call := &CallFigures{RTT: 12 * time.Millisecond, PacketsLost: 3}
	if got, want := overlayText(f, call, nil), "640x480 31 fps\n2.41 Mbit/s\nRTT 12 ms, 3 lost"; got != want {
		t.Errorf("with the call's figures: %q; want %q", got, want)
	}
}

// TestDisplayDriver: SDL is sent to the display the environment names,
// and left to choose where it names both or is not Unix.
func TestDisplayDriver(t *testing.T) {
	tests := []struct{ goos, display, wayland, want string }{
		{"linux", ":0", "", "x11"},
		{"linux", "", "wayland-0", "wayland"},
		{"linux", ":0", "wayland-0", ""},
		{"darwin", ":0", "", ""},
	}
	for _, tt := range tests {
		if got := displayDriver(tt.goos, tt.display, tt.wayland); got != tt.want {
			t.Errorf("displayDriver(%q, %q, %q) = %q; want %q", tt.goos, tt.display, tt.wayland, got, tt.want)
		}
	}
}

// TestOverlaySound: the overlay's sound lines say the jitter buffer's
// depth, what was rebuilt and made up, whether the sound is muted or has
// no output, and where the picture stands against its sound.
func TestOverlaySound(t *testing.T) {
	f := figures{Width: 640, Height: 480, FPS: 30, Bitrate: 1e6}
	const head = "640x480 30 fps\n1.00 Mbit/s\n"
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name  string
		sound SoundFigures
		want  string
	}{
		{"by arrival", SoundFigures{Buffered: ms(60), Recovered: 2, Concealed: 1},
			"sound 60 ms buffered, 2 FEC, 1 concealed\nlip sync by arrival"},
		{"in step", SoundFigures{Buffered: ms(40), Synced: true},
			"sound 40 ms buffered, 0 FEC, 0 concealed\nlip sync in step"},
		{"muted, picture late", SoundFigures{Buffered: ms(40), Muted: true, Synced: true, Skew: ms(30)},
			"sound muted, 40 ms buffered, 0 FEC, 0 concealed\npicture 30 ms after its sound"},
		{"picture early", SoundFigures{Buffered: ms(40), Synced: true, Skew: ms(-120)},
			"sound 40 ms buffered, 0 FEC, 0 concealed\npicture 120 ms before its sound"},
		{"no output", SoundFigures{Silent: true}, "no sound output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := overlayText(f, nil, &tc.sound); got != head+tc.want {
				t.Errorf("overlay:\n%s\nwant\n%s", got, head+tc.want)
			}
		})
	}
}

// TestLipSyncSkew: what the overlay says of lip sync is the part of the
// picture's offset from its sound that waiting could not make up.
func TestLipSyncSkew(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct{ offset, want time.Duration }{
		{0, 0}, {ms(60), 0}, {maxLipSync, 0}, {ms(130), ms(-30)}, {ms(-25), ms(25)},
	} {
		l := lipSync{offset: tc.offset, known: true}
		if got := l.skew(); got != tc.want {
			t.Errorf("offset %v: skew %v; want %v", tc.offset, got, tc.want)
		}
	}
}
