// Package mjpeg decodes the Motion-JPEG frames USB cameras send into the
// I420 pictures p2pcam's VP8 encoder takes. It sits between a camera
// (pkg/capture reads the JPEG bytes from V4L2) and the encoder.
//
// Decoding is libjpeg-turbo's (TurboJPEG API, linked with cgo), straight
// into Y, Cb and Cr planes: 4:2:0 JPEGs land in the output as they are,
// the 4:2:2 JPEGs most webcams send are decoded to 4:2:2 planes and their
// chroma halved vertically, 4:4:4 and greyscale are converted too. Without
// cgo, NewDecoder returns ErrNoDecoder. JPEG's full-range samples are
// mapped to video range on the way, since VP8 players assume it.
//
// Many UVC cameras leave the Huffman tables out of every frame (the UVC
// payload format says to use the ones in the JPEG standard); Decode puts
// the standard tables (ITU-T T.81 Annex K.3) in before decoding.
package mjpeg

import (
	"errors"
	"fmt"
)

var (
	// ErrNoDecoder means this build has no JPEG decoder: it was built
	// without cgo, so libjpeg-turbo is not linked in.
	ErrNoDecoder = errors.New("no MJPEG decoder in this build (it needs cgo and libjpeg-turbo)")
	// ErrCorrupt means a frame is not a whole, valid JPEG (truncated,
	// damaged in transfer, or not a JPEG at all). The next frame may be
	// fine: callers drop this one.
	ErrCorrupt = errors.New("corrupt JPEG frame")
	// ErrUnsupported means a valid JPEG this package does not convert
	// (e.g. 4:1:1 chroma or CMYK).
	ErrUnsupported = errors.New("unsupported JPEG")
)

// JPEG markers used here (T.81 Table B.1).
const (
	markerSOI = 0xD8
	markerEOI = 0xD9
	markerSOS = 0xDA
	markerDHT = 0xC4
)

// HasHuffmanTables reports whether the JPEG in b defines any Huffman table
// before its first scan. It returns an error wrapping ErrCorrupt when the
// marker segments before the scan cannot be walked.
func HasHuffmanTables(b []byte) (bool, error) {
	_, has, err := scanHeader(b)
	return has, err
}

// scanHeader walks b's marker segments up to the first SOS and returns the
// offset of that SOS marker and whether a DHT segment came before it.
func scanHeader(b []byte) (sos int, hasDHT bool, err error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != markerSOI {
		return 0, false, fmt.Errorf("%w: no start-of-image marker", ErrCorrupt)
	}
	i := 2
	for {
		// Markers may be preceded by any number of 0xFF fill bytes.
		for i < len(b) && b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0xFF {
			i++
		}
		if i+4 > len(b) || b[i] != 0xFF {
			return 0, false, fmt.Errorf("%w: headers end at byte %d without a scan", ErrCorrupt, i)
		}
		m := b[i+1]
		switch {
		case m == markerSOS:
			return i, hasDHT, nil
		case m == markerEOI:
			return 0, false, fmt.Errorf("%w: image ends before any scan", ErrCorrupt)
		case m == markerDHT:
			hasDHT = true
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			// Stand-alone markers (TEM, RSTn) carry no length.
			i += 2
			continue
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return 0, false, fmt.Errorf("%w: segment %#x at byte %d overruns the frame", ErrCorrupt, m, i)
		}
		i += 2 + n
	}
}

// WithHuffmanTables returns b unchanged when it defines Huffman tables,
// else b with a DHT segment holding the standard tables of T.81 Annex K.3
// inserted before its first scan, in buf's storage when it is big enough.
// It returns an error wrapping ErrCorrupt when b's headers cannot be
// walked.
func WithHuffmanTables(b, buf []byte) ([]byte, error) {
	sos, has, err := scanHeader(b)
	if err != nil || has {
		return b, err
	}
	n := len(b) + len(standardDHT)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	copy(buf, b[:sos])
	copy(buf[sos:], standardDHT)
	copy(buf[sos+len(standardDHT):], b[sos:])
	return buf, nil
}

// huffTable is one Huffman table as a DHT segment carries it: the number of
// codes of each length 1..16, then the symbols in code order.
type huffTable struct {
	class, id byte // class 0 = DC, 1 = AC; id 0 = luminance, 1 = chrominance
	counts    [16]byte
	symbols   []byte
}

// The typical tables of T.81 Annex K.3 (Tables K.3 to K.6), the ones the
// UVC MJPEG payload format says a decoder uses when a frame has none.
var standardTables = []huffTable{
	{class: 0, id: 0,
		counts:  [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
		symbols: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{class: 0, id: 1,
		counts:  [16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
		symbols: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{class: 1, id: 0,
		counts: [16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d},
		symbols: []byte{
			0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
			0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
			0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
			0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
			0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
			0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
			0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
			0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
			0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
			0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		}},
	{class: 1, id: 1,
		counts: [16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77},
		symbols: []byte{
			0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
			0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
			0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
			0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
			0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
			0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
			0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
			0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
			0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
			0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		}},
}

// standardDHT is one DHT marker segment holding the four standard tables.
var standardDHT = buildDHT(standardTables)

func buildDHT(tables []huffTable) []byte {
	n := 2 // the length field counts itself
	for _, t := range tables {
		n += 1 + 16 + len(t.symbols)
	}
	out := []byte{0xFF, markerDHT, byte(n >> 8), byte(n)}
	for _, t := range tables {
		out = append(out, t.class<<4|t.id)
		out = append(out, t.counts[:]...)
		out = append(out, t.symbols...)
	}
	return out
}
