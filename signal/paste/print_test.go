package paste

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

func TestPrintPlainAndClipboard(t *testing.T) {
	tests := []struct {
		name string
		opts PrintOptions
		want string
	}{
		{"plain", PrintOptions{}, "p2pcam1:abc\n"},
		{"clipboard", PrintOptions{Clipboard: true}, "p2pcam1:abc\n\x1b]52;c;cDJwY2FtMTphYmM=\a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Print(&buf, "p2pcam1:abc", tt.opts); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

// TestPrintQR reads the half-block drawing back into modules and compares
// them with the QR code of the blob.
func TestPrintQR(t *testing.T) {
	for _, name := range []string{"offer-2", "offer-8"} {
		t.Run(name, func(t *testing.T) {
			blob := testutil.ReadTrimmed(t, "../testdata/golden/"+name+".compact")
			var buf bytes.Buffer
			if err := Print(&buf, blob, PrintOptions{QR: true}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if lines[0] != blob {
				t.Fatalf("first line is not the blob: %q", lines[0])
			}
			art := lines[1:]
			size := utf8.RuneCountInString(art[0])
			// Modules per side: 17+4*version, plus a 4-module quiet zone
			// on each side.
			if (size-8-17)%4 != 0 || size < 8+21 {
				t.Fatalf("QR is %d modules wide, not a QR code size", size)
			}
			if len(art) != (size+1)/2 {
				t.Fatalf("QR has %d lines for %d modules, not square", len(art), size)
			}
			var got [][]bool // true = dark
			for _, line := range art {
				top := make([]bool, 0, size)
				bottom := make([]bool, 0, size)
				for _, r := range line {
					switch r {
					case '█':
						top, bottom = append(top, false), append(bottom, false)
					case '▀':
						top, bottom = append(top, false), append(bottom, true)
					case '▄':
						top, bottom = append(top, true), append(bottom, false)
					case ' ':
						top, bottom = append(top, true), append(bottom, true)
					default:
						t.Fatalf("unexpected rune %q", r)
					}
				}
				if len(top) != size {
					t.Fatalf("line of %d modules, want %d", len(top), size)
				}
				got = append(got, top, bottom)
			}
			q, err := qrcode.New(blob, qrcode.Low)
			if err != nil {
				t.Fatal(err)
			}
			want := q.Bitmap()
			if len(want) != size {
				t.Fatalf("drawn %d modules, code has %d", size, len(want))
			}
			for y := range want {
				for x := range want[y] {
					if got[y][x] != want[y][x] {
						t.Fatalf("module (%d,%d) drawn wrong", x, y)
					}
				}
			}
			t.Logf("%s: %d characters -> QR of %d modules with quiet zone", name, len(blob), size)
		})
	}
}

func TestPrintQRTooLong(t *testing.T) {
	blob := strings.Repeat("ey", 3500)
	var buf bytes.Buffer
	if err := Print(&buf, blob, PrintOptions{QR: true}); err != nil {
		t.Fatal(err)
	}
	want := blob + "\n(blob too long for a QR code: 7000 characters)\n"
	if buf.String() != want {
		t.Errorf("got %q", buf.String()[len(blob):])
	}
}

func TestPrintQRToAnotherWriter(t *testing.T) {
	var out, qr strings.Builder
	blob := "p2pcam1:" + strings.Repeat("A", 200)
	if err := Print(&out, blob, PrintOptions{QR: true, QRTo: &qr}); err != nil {
		t.Fatal(err)
	}
	if out.String() != blob+"\n" {
		t.Fatalf("w got %q; want only the blob line", out.String())
	}
	if !strings.Contains(qr.String(), "█") {
		t.Fatalf("QRTo got no QR code: %q", qr.String())
	}
}
