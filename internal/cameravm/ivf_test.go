package cameravm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// readFixture returns the module's testdata/testsrc-64x48-5f.ivf; the
// README there says how it was made.
func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/testsrc-64x48-5f.ivf")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadIVF(t *testing.T) {
	whole := readFixture(t)
	firstSize := int(binary.LittleEndian.Uint32(whole[32:36]))
	afterFirst := 32 + 12 + firstSize
	longHeader := append(append([]byte{}, whole[:32]...), make([]byte, 8)...)
	binary.LittleEndian.PutUint16(longHeader[6:8], 40)
	longHeader = append(longHeader, whole[32:]...)
	badLen := append([]byte{}, whole...)
	binary.LittleEndian.PutUint16(badLen[6:8], 16)
	badSig := append([]byte{}, whole...)
	copy(badSig, "RIFF")

	tests := []struct {
		name       string
		in         []byte
		wantErr    error
		wantFrames int
		wantKeys   int
	}{
		{name: "whole file", in: whole, wantFrames: 5, wantKeys: 2},
		{name: "longer header skipped", in: longHeader, wantFrames: 5, wantKeys: 2},
		{name: "header only", in: whole[:32], wantFrames: 0},
		{name: "cut in a frame header", in: whole[:afterFirst+5], wantErr: ErrTruncated, wantFrames: 1, wantKeys: 1},
		{name: "cut in a frame", in: whole[:afterFirst+12+3], wantErr: ErrTruncated, wantFrames: 1, wantKeys: 1},
		{name: "cut in the first frame", in: whole[:32+12+1], wantErr: ErrTruncated},
		{name: "empty", in: nil, wantErr: ErrNotIVF},
		{name: "short header", in: whole[:20], wantErr: ErrNotIVF},
		{name: "wrong signature", in: badSig, wantErr: ErrNotIVF},
		{name: "header length too small", in: badLen, wantErr: ErrNotIVF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := ReadIVF(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if info.Frames != tc.wantFrames || info.KeyFrames != tc.wantKeys {
				t.Errorf("frames %d keyframes %d, want %d and %d", info.Frames, info.KeyFrames, tc.wantFrames, tc.wantKeys)
			}
			if errors.Is(tc.wantErr, ErrNotIVF) {
				return
			}
			// ffprobe -show_streams / -show_packets on the fixture agree.
			want := IVFInfo{FourCC: "VP80", Width: 64, Height: 48, TimebaseNum: 1, TimebaseDen: 10, HeaderLength: 5}
			got := IVFInfo{FourCC: info.FourCC, Width: info.Width, Height: info.Height,
				TimebaseNum: info.TimebaseNum, TimebaseDen: info.TimebaseDen, HeaderLength: info.HeaderLength}
			if got != want {
				t.Errorf("header %+v, want %+v", got, want)
			}
		})
	}
}

func TestReadIVFWholeFileFigures(t *testing.T) {
	whole := readFixture(t)
	info, err := ReadIVF(bytes.NewReader(whole))
	if err != nil {
		t.Fatal(err)
	}
	// Payload bytes are the file less its 32-byte header and the 12-byte
	// header of each frame.
	if want := int64(len(whole) - 32 - 12*5); info.Bytes != want {
		t.Errorf("bytes %d, want %d", info.Bytes, want)
	}
	if info.FirstPTS != 0 || info.LastPTS != 4 {
		t.Errorf("pts %d..%d, want 0..4", info.FirstPTS, info.LastPTS)
	}
	const line = "fourcc=VP80 size=64x48 timebase=1/10 header_length=5 frames=5 keyframes=2 pts=0..4 bytes=3033"
	if info.String() != line {
		t.Errorf("String() = %q, want %q", info.String(), line)
	}
}

func FuzzReadIVF(f *testing.F) {
	b, err := os.ReadFile("../../testdata/testsrc-64x48-5f.ivf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:50])
	f.Fuzz(func(t *testing.T, in []byte) {
		info, err := ReadIVF(bytes.NewReader(in))
		if err == nil && int64(len(in)) < 32+int64(info.Frames)*12+info.Bytes {
			t.Fatalf("counted more than the input holds: %+v from %d bytes", info, len(in))
		}
		if info.KeyFrames > info.Frames {
			t.Fatalf("%d keyframes among %d frames", info.KeyFrames, info.Frames)
		}
	})
}
