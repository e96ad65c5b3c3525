package testutil

import (
	"encoding/binary"
	"os"
	"testing"
)

// ReadIVF returns the frames of the IVF file at path; it fails the test
// when the file cannot be read, is not IVF, is cut short or holds no
// frame.
func ReadIVF(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := ivfFrames(t, path, b)
	if len(frames) == 0 {
		t.Fatalf("%s holds no frames", path)
	}
	return frames
}

// IVFFrames splits an IVF stream, as a recorder wrote it, into its frames
// and their presentation times (in the stream's timebase); it fails the
// test when b is not IVF or is cut short.
func IVFFrames(t testing.TB, b []byte) (frames [][]byte, pts []int64) {
	t.Helper()
	return ivfFrames(t, "IVF stream", b)
}

func ivfFrames(t testing.TB, name string, b []byte) (frames [][]byte, pts []int64) {
	t.Helper()
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatalf("%s: not IVF (%d bytes)", name, len(b))
	}
	for off := int(binary.LittleEndian.Uint16(b[6:])); off < len(b); {
		if off+12 > len(b) {
			t.Fatalf("%s: truncated frame header at %d", name, off)
		}
		n := int(binary.LittleEndian.Uint32(b[off:]))
		pts = append(pts, int64(binary.LittleEndian.Uint64(b[off+4:]))) // #nosec G115: test data
		off += 12
		if off+n > len(b) {
			t.Fatalf("%s: truncated frame at %d", name, off)
		}
		frames = append(frames, b[off:off+n])
		off += n
	}
	return frames, pts
}
