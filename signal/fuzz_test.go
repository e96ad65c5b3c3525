package signal

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// FuzzDecode checks Decode never panics, and that whatever it accepts
// survives a compact round trip unchanged.
func FuzzDecode(f *testing.F) {
	golden, _ := filepath.Glob("testdata/golden/*")
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, blob string) {
		sd, _, err := Decode(blob)
		if err != nil {
			return
		}
		again, err := Encode(sd, FormatCompact)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", sd.SDP, err)
		}
		back, _, err := Decode(again)
		if err != nil || back != sd {
			t.Fatalf("compact round trip of a decoded blob failed: %v", err)
		}
		// Any decoded description can be tagged as an answer to any
		// other, and the tag is read back and matches.
		tagged, err := TagAnswer(sd, sd)
		if err != nil {
			return // an SDP Decode accepts but offerTag cannot hash
		}
		if err := CheckAnswer(tagged, sd); err != nil && answerTag(sd) == "" {
			t.Fatalf("an answer tagged for its offer is refused: %v", err)
		}
	})
}

// allocated returns the bytes fn allocates: the least of three runs, as
// goroutines left by other tests (pion's, winding down) allocate too.
func allocated(fn func()) uint64 {
	least := uint64(1<<64 - 1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestHugeInputBoundedMemory feeds 10 MB inputs and a DEFLATE bomb with a
// valid checksum; each must fail without allocating in proportion.
func TestHugeInputBoundedMemory(t *testing.T) {
	huge := strings.Repeat("QUFB", 10<<20/4)
	bomb := bombBlob(t, 10<<20)
	if len(bomb) > MaxBlobSize {
		t.Fatalf("bomb blob is %d bytes; it must pass the input cap", len(bomb))
	}
	tests := []struct {
		name     string
		blob     string
		want     error
		maxBytes uint64
	}{
		{"10 MB of base64", huge, ErrTooLarge, 64 << 10},
		{"10 MB compact", CompactPrefix + huge, ErrTooLarge, 64 << 10},
		{"deflate bomb of 10 MB", bomb, ErrMalformed, 4 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, _, err = Decode(tt.blob) })
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if n > tt.maxBytes {
				t.Errorf("allocated %d bytes, want at most %d", n, tt.maxBytes)
			}
			t.Logf("allocated %d bytes", n)
		})
	}
}

// bombBlob builds a compact blob, checksum right, whose skeleton inflates
// to n bytes.
func bombBlob(t *testing.T, n int) string {
	t.Helper()
	var z bytes.Buffer
	zw, err := flate.NewWriterDict(&z, flate.BestCompression, []byte(compactDict))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(bytes.Repeat([]byte("a"), n)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zb := bytes.TrimSuffix(z.Bytes(), storedTail)
	body := []byte{1 | flagRaw}
	body = binary.AppendUvarint(body, uint64(len(zb)))
	body = append(body, zb...)
	total := len(body) + 4 + uvarintLen(uint64(len(body)+4+3))
	p := binary.AppendUvarint(nil, uint64(total))
	p = append(p, body...)
	if len(p)+4 != total {
		t.Fatalf("length field: %d != %d", len(p)+4, total)
	}
	p = binary.BigEndian.AppendUint32(p, crc32.ChecksumIEEE(p))
	return CompactPrefix + b64url.EncodeToString(p)
}

// FuzzParseCompact fuzzes each compact version's payload parser behind
// the checksum, which random changes to a whole blob seldom get past
// (FuzzDecode stops there). Whatever it accepts must survive a round
// trip through the same version unchanged.
func FuzzParseCompact(f *testing.F) {
	vs := compactVersions()
	golden, _ := filepath.Glob("testdata/golden/*.compact*")
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		text := strings.TrimSpace(string(b))
		for i, v := range vs {
			body, ok := strings.CutPrefix(text, v.prefix)
			if !ok {
				continue
			}
			p, err := b64url.DecodeString(body)
			if err != nil {
				f.Fatal(err)
			}
			_, n := binary.Uvarint(p)
			f.Add(p[n:len(p)-4], uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, p []byte, version uint8) {
		v := vs[int(version)%len(vs)]
		sd, err := parseCompact(p, v.dict)
		if err != nil {
			return
		}
		blob, err := encodeCompactAs(sd, v)
		if err != nil {
			t.Fatalf("parsed %q but cannot encode it: %v", sd.SDP, err)
		}
		back, err := decodeCompact(blob, v)
		if err != nil || back.Type != sd.Type || back.SDP != sd.SDP {
			t.Fatalf("%s round trip of a parsed payload failed: %v", v.prefix, err)
		}
	})
}
