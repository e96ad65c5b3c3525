package mjpeg

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures in testdata")

// stripDHT returns b without its DHT segments, as a UVC camera sends it.
func stripDHT(t testing.TB, b []byte) []byte {
	t.Helper()
	sos, _, err := scanHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	out := []byte{0xFF, markerSOI}
	for i := 2; i < sos; {
		n := int(b[i+2])<<8 | int(b[i+3])
		if b[i+1] != markerDHT {
			out = append(out, b[i:i+2+n]...)
		}
		i += 2 + n
	}
	return append(out, b[sos:]...)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNoDHTFixture keeps testdata/testsrc2-422-nodht.jpg what its README
// says: testsrc2-422.jpg without Huffman tables (-update rewrites it).
func TestNoDHTFixture(t *testing.T) {
	want := stripDHT(t, readFixture(t, "testsrc2-422.jpg"))
	path := filepath.Join("testdata", "testsrc2-422-nodht.jpg")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := readFixture(t, "testsrc2-422-nodht.jpg")
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not testsrc2-422.jpg without its DHT segments; run go test -run TestNoDHTFixture -update", path)
	}
	if has, err := HasHuffmanTables(got); err != nil || has {
		t.Fatalf("HasHuffmanTables(nodht) = %v, %v; want false, nil", has, err)
	}
}

// parseDHT reads every Huffman table defined before b's first scan.
func parseDHT(t *testing.T, b []byte) map[[2]byte]huffTable {
	t.Helper()
	sos, _, err := scanHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[[2]byte]huffTable{}
	for i := 2; i < sos; {
		n := int(b[i+2])<<8 | int(b[i+3])
		if b[i+1] == markerDHT {
			seg := b[i+4 : i+2+n]
			for len(seg) > 0 {
				var ht huffTable
				ht.class, ht.id = seg[0]>>4, seg[0]&15
				copy(ht.counts[:], seg[1:17])
				total := 0
				for _, c := range ht.counts {
					total += int(c)
				}
				ht.symbols = seg[17 : 17+total]
				seg = seg[17+total:]
				tables[[2]byte{ht.class, ht.id}] = ht
			}
		}
		i += 2 + n
	}
	return tables
}

// TestStandardTablesMatchGoEncoder checks the Annex K.3 tables typed in
// here against the ones Go's image/jpeg encoder writes into every JPEG.
func TestStandardTablesMatchGoEncoder(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	got := parseDHT(t, buf.Bytes())
	if len(got) != 4 {
		t.Fatalf("Go's encoder wrote %d tables, want 4", len(got))
	}
	for _, want := range standardTables {
		g, ok := got[[2]byte{want.class, want.id}]
		if !ok {
			t.Fatalf("no table class %d id %d from Go's encoder", want.class, want.id)
		}
		if g.counts != want.counts || !bytes.Equal(g.symbols, want.symbols) {
			t.Errorf("table class %d id %d differs from Go's encoder:\n got %v %x\nwant %v %x",
				want.class, want.id, want.counts, want.symbols, g.counts, g.symbols)
		}
	}
}

func TestWithHuffmanTables(t *testing.T) {
	full := readFixture(t, "testsrc2-422.jpg")
	bare := stripDHT(t, full)
	sos, _, _ := scanHeader(bare)
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		corrupt bool
	}{
		{name: "tables kept", in: full, want: full},
		{name: "tables added before the scan", in: bare,
			want: append(append(append([]byte{}, bare[:sos]...), standardDHT...), bare[sos:]...)},
		{name: "empty", in: nil, corrupt: true},
		{name: "not a JPEG", in: []byte("P6\n320 240\n255\n...."), corrupt: true},
		{name: "headers cut short", in: bare[:sos-10], corrupt: true},
		{name: "segment length overruns", in: []byte{0xFF, 0xD8, 0xFF, 0xDB, 0x40, 0x00, 1, 2, 3}, corrupt: true},
		{name: "image ends before a scan", in: []byte{0xFF, 0xD8, 0xFF, 0xD9, 0, 0}, corrupt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WithHuffmanTables(tt.in, nil)
			if tt.corrupt {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

// TestStandardTablesDecodeWithGo: a frame with its tables stripped and
// the standard ones put back decodes in Go's image/jpeg to the same
// picture as the original (ffmpeg wrote it with -huffman default).
func TestStandardTablesDecodeWithGo(t *testing.T) {
	full := readFixture(t, "testsrc2-422.jpg")
	fixed, err := WithHuffmanTables(readFixture(t, "testsrc2-422-nodht.jpg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := jpeg.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	b, err := jpeg.Decode(bytes.NewReader(fixed))
	if err != nil {
		t.Fatalf("decode with the standard tables: %v", err)
	}
	for y := 0; y < a.Bounds().Dy(); y += 7 {
		for x := 0; x < a.Bounds().Dx(); x += 7 {
			if color.YCbCrModel.Convert(a.At(x, y)) != color.YCbCrModel.Convert(b.At(x, y)) {
				t.Fatalf("pixel %d,%d differs", x, y)
			}
		}
	}
}

func FuzzWithHuffmanTables(f *testing.F) {
	f.Add(readFixture(f, "testsrc2-422-nodht.jpg"))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := WithHuffmanTables(b, nil)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if has, err := HasHuffmanTables(out); err != nil || !has {
			t.Fatalf("after WithHuffmanTables: has=%v err=%v", has, err)
		}
	})
}
