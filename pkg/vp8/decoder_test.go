//go:build cgo

package vp8

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/fuzz/FuzzDecode seeds")

// encodeStream encodes n frames of the w x h pattern.
func encodeStream(t testing.TB, w, h, n int) [][]byte {
	t.Helper()
	s := newSource(w, h, 30)
	p := NewParams()
	p.BitRate = 200_000
	e := newTestEncoder(t, s, p)
	var out [][]byte
	for range n {
		out = append(out, readFrame(t, e))
	}
	return out
}

func TestDecoderSurvivesCorruptInput(t *testing.T) {
	stream := encodeStream(t, 64, 48, 3)
	key, inter := stream[0], stream[1]
	flipped := append([]byte(nil), key...)
	for i := 10; i < len(flipped); i += 7 {
		flipped[i] ^= 0x5a
	}
	huge := append([]byte(nil), key...)
	huge[6], huge[7], huge[8], huge[9] = 0xff, 0x3f, 0xff, 0x3f // 16383x16383
	tests := []struct {
		name    string
		frame   []byte
		wantBad bool // wraps ErrBadFrame rather than a libvpx error
	}{
		{"empty", nil, true},
		{"one byte", []byte{0}, false},
		{"keyframe header only", key[:10], false},
		{"truncated keyframe", key[:len(key)/2], false},
		{"bad start code", append([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2b}, key[6:]...), false},
		{"oversized keyframe", huge, true},
		{"bit flips", flipped, false},
		{"random", []byte("this is not a vp8 frame at all, just text"), false},
		{"interframe first", inter, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			img, err := d.Decode(tt.frame)
			switch {
			case tt.wantBad && !errors.Is(err, ErrBadFrame):
				t.Errorf("err = %v, want ErrBadFrame", err)
			case err == nil && img == nil:
				t.Errorf("nil image without an error")
			case err != nil && !errors.Is(err, ErrBadFrame) && !errors.As(err, new(*CodecError)):
				t.Errorf("err = %v (%T), want ErrBadFrame or *CodecError", err, err)
			}
			t.Logf("%s: %v", tt.name, err)
			// The decoder recovers at the next keyframe.
			for i, fr := range stream {
				if img, err := d.Decode(fr); err != nil || img.Rect.Dx() != 64 {
					t.Fatalf("frame %d after %s: %v", i, tt.name, err)
				}
			}
		})
	}
}

func TestDecoderClose(t *testing.T) {
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Decode([]byte{1, 2, 3}); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v, want ErrClosed", err)
	}
}

func TestDecodedImageIsOwnedByCaller(t *testing.T) {
	stream := encodeStream(t, 64, 48, 4)
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first, err := d.Decode(stream[0])
	if err != nil {
		t.Fatal(err)
	}
	keep := append([]byte(nil), first.Y...)
	for _, fr := range stream[1:] {
		if _, err := d.Decode(fr); err != nil {
			t.Fatal(err)
		}
	}
	if string(keep) != string(first.Y) {
		t.Error("a later Decode changed an image already returned")
	}
}

// TestWriteFuzzSeeds regenerates the seed corpus with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stream := encodeStream(t, 32, 24, 2)
	seeds := map[string][]byte{
		"keyframe-32x24":   stream[0],
		"interframe-32x24": stream[1],
		"truncated-key":    stream[0][:len(stream[0])/2],
		"header-only":      stream[0][:10],
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to a decoder, both as a first frame and
// after a valid keyframe (so interframe paths run), and checks it neither
// crashes nor returns an image of impossible size.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x20, 0x00, 0x18, 0x00})
	key := encodeStream(f, 32, 24, 1)[0]
	f.Fuzz(func(t *testing.T, frame []byte) {
		d, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		check := func(when string) {
			img, err := d.Decode(frame)
			if err != nil {
				return
			}
			if w, h := img.Rect.Dx(), img.Rect.Dy(); w < 1 || h < 1 || w > maxDecodeDim || h > maxDecodeDim {
				t.Fatalf("%s: decoded a %dx%d image", when, w, h)
			}
		}
		check("first frame")
		if _, err := d.Decode(key); err != nil {
			t.Fatalf("valid keyframe after fuzz input: %v", err)
		}
		check("after a keyframe")
	})
}
