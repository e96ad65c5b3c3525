package paste

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// PrintOptions selects what Print emits besides the blob itself.
type PrintOptions struct {
	// Clipboard also emits an OSC 52 escape sequence asking the terminal
	// to copy the blob to the clipboard (works over ssh in terminals that
	// allow it). Set it only when w is a terminal; the caller decides.
	Clipboard bool
	// QR also renders the blob as a QR code of Unicode half blocks, light
	// modules drawn, for a terminal with a dark background.
	QR bool
	// QRTo, when not nil, receives the QR code instead of w, so that w
	// (stdout) carries only the blob for scripts while people get the
	// picture on stderr.
	QRTo io.Writer
}

// Print writes blob to w on a line of its own, then, as opts asks, the
// OSC 52 clipboard sequence (ESC ] 52 ; c ; base64(blob) BEL) and a QR
// code. A blob too long for a QR code gets a one-line note instead of the
// code. Print returns the first write error.
func Print(w io.Writer, blob string, opts PrintOptions) error {
	var sb strings.Builder
	sb.WriteString(blob)
	sb.WriteString("\n")
	if opts.Clipboard {
		sb.WriteString(osc52(blob))
	}
	var qr strings.Builder
	if opts.QR {
		q, err := qrcode.New(blob, qrcode.Low)
		if err != nil {
			fmt.Fprintf(&qr, "(blob too long for a QR code: %d characters)\n", len(blob))
		} else {
			qr.WriteString(renderQR(q.Bitmap()))
		}
	}
	if opts.QRTo == nil {
		sb.WriteString(qr.String())
	}
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return fmt.Errorf("print blob: %w", err)
	}
	if opts.QRTo != nil && qr.Len() > 0 {
		if _, err := io.WriteString(opts.QRTo, qr.String()); err != nil {
			return fmt.Errorf("print QR code: %w", err)
		}
	}
	return nil
}

// osc52 returns the escape sequence that sets the clipboard to s.
func osc52(s string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(s)) + "\a"
}

// renderQR draws a bitmap (true = dark module, quiet zone included) two
// module rows per text line. Light modules are drawn as blocks and dark
// ones left blank, so on a dark terminal the code reads the right way.
func renderQR(bm [][]bool) string {
	var sb strings.Builder
	light := func(y, x int) bool { return y >= len(bm) || !bm[y][x] }
	for y := 0; y < len(bm); y += 2 {
		for x := range bm[y] {
			top, bottom := light(y, x), light(y+1, x)
			switch {
			case top && bottom:
				sb.WriteString("█")
			case top:
				sb.WriteString("▀")
			case bottom:
				sb.WriteString("▄")
			default:
				sb.WriteString(" ")
			}
		}
		sb.WriteString("\n")
	}
	return sb.String()
}
