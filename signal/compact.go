package signal

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/webrtc/v4"
)

// The compact format, version 1.
//
// Text: compactPrefix, then unpadded URL-safe base64 of the payload.
//
// Payload:
//
//	uvarint  total payload length, this field and the checksum included
//	byte     flags: bits 0-2 SDP type (webrtc.SDPType), bit 3 raw mode,
//	         bits 4-7 zero
//	uvarint  length of the skeleton stream
//	...      skeleton: the SDP text, raw DEFLATE with compactDict as preset
//	         dictionary, where each per-session value is replaced by a
//	         marker (see below); the stream ends with an empty stored
//	         final block whose last 4 bytes (LEN 0, NLEN 0xffff) are left
//	         out
//	...      values: the binary form of each new value, in marker order
//	4 bytes  CRC-32 (IEEE, big endian) of everything before it
//
// A marker is one byte 0x10+k (the next new value of kind k, read from the
// values stream) or two bytes 0x18+k, i (the i-th value of kind k seen so
// far, for repeats such as the ufrag in every candidate). Only canonical
// values are replaced (ones whose binary form renders back to the same
// text), so decoding is lossless for any SDP. In raw mode (an SDP that
// already holds bytes 0x10-0x1f) nothing is replaced.
const (
	compactPrefix  = "p2pcam1:"
	compactVersion = 1

	flagRaw      = 1 << 3
	markerNew    = 0x10
	markerRef    = 0x18
	maxKindCount = 256
	// maxSDPSize bounds the decoded SDP and the inflated skeleton.
	maxSDPSize = 4 * MaxBlobSize
)

// Value kinds. Their numbers are part of the format.
const (
	kindU32  = iota // decimal < 2^32, 4 bytes big endian
	kindU64         // decimal < 2^64, uvarint
	kindPort        // decimal < 2^16, 2 bytes big endian
	kindAddr        // IPv4, IPv6 or <uuid>.local: tag byte + 4 or 16 bytes
	kindICE         // 1-255 ice-chars [A-Za-z0-9+/]: length byte + 6 bits each
	kindHex         // colon-separated upper-case hex bytes: length + bytes
	kindUUID        // lower-case RFC 4122 text: 16 bytes
	numKinds
)

const (
	addrIPv4 = iota
	addrIPv6
	addrMDNS
)

var b64url = base64.RawURLEncoding

// storedTail ends every DEFLATE stream compress/flate writes (an empty
// final stored block); the compact format leaves it out.
var storedTail = []byte{0x00, 0x00, 0xff, 0xff}

// encodeCompact builds a compact blob from a validated description.
func encodeCompact(sd webrtc.SessionDescription) (string, error) {
	text := sd.SDP
	raw := strings.IndexFunc(text, func(r rune) bool { return r >= markerNew && r < markerRef+numKinds }) >= 0

	var skel bytes.Buffer
	var vals []byte
	if raw {
		skel.WriteString(text)
	} else {
		e := newExtractor()
		for _, line := range strings.SplitAfter(text, "\n") {
			e.line(&skel, line)
		}
		vals = e.vals
	}

	var z bytes.Buffer
	zw, err := flate.NewWriterDict(&z, flate.BestCompression, []byte(compactDict))
	if err != nil {
		return "", fmt.Errorf("encode compact blob: %w", err)
	}
	if _, err := zw.Write(skel.Bytes()); err != nil {
		return "", fmt.Errorf("encode compact blob: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("encode compact blob: %w", err)
	}

	zb, ok := bytes.CutSuffix(z.Bytes(), storedTail)
	if !ok {
		return "", errors.New("encode compact blob: unexpected DEFLATE stream end")
	}
	flags := byte(sd.Type)
	if raw {
		flags |= flagRaw
	}
	var body []byte
	body = append(body, flags)
	body = binary.AppendUvarint(body, uint64(len(zb)))
	body = append(body, zb...)
	body = append(body, vals...)

	// The length field counts itself; find the fixed point.
	total := len(body) + 4
	for n := 1; ; n++ {
		if uvarintLen(uint64(total+n)) == n {
			total += n
			break
		}
	}
	payload := binary.AppendUvarint(make([]byte, 0, total), uint64(total))
	payload = append(payload, body...)
	payload = binary.BigEndian.AppendUint32(payload, crc32.ChecksumIEEE(payload))
	return compactPrefix + b64url.EncodeToString(payload), nil
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

// extractor replaces per-session values in SDP lines with markers.
type extractor struct {
	seen [numKinds]map[string]int
	vals []byte
}

func newExtractor() *extractor {
	e := &extractor{}
	for k := range e.seen {
		e.seen[k] = map[string]int{}
	}
	return e
}

// span is a token to replace: line[start:end] as kind.
type span struct {
	start, end int
	kind       int
}

// line writes one SDP line (with its line ending) to skel, values replaced.
func (e *extractor) line(skel *bytes.Buffer, line string) {
	pos := 0
	for _, s := range spans(line) {
		tok := line[s.start:s.end]
		marker, ok := e.marker(s.kind, tok)
		if !ok {
			continue
		}
		skel.WriteString(line[pos:s.start])
		skel.Write(marker)
		pos = s.end
	}
	skel.WriteString(line[pos:])
}

// marker returns the marker for tok, appending its value if new; ok is
// false when tok is not canonical for kind or the kind's table is full.
func (e *extractor) marker(kind int, tok string) ([]byte, bool) {
	if i, ok := e.seen[kind][tok]; ok {
		return []byte{byte(markerRef + kind), byte(i)}, true
	}
	if len(e.seen[kind]) >= maxKindCount {
		return nil, false
	}
	v, ok := encodeValue(kind, tok)
	if !ok {
		return nil, false
	}
	e.seen[kind][tok] = len(e.seen[kind])
	e.vals = append(e.vals, v...)
	return []byte{byte(markerNew + kind)}, true
}

// tokens splits s on single spaces, returning each token's offsets.
func tokens(s string, base int) [][2]int {
	var out [][2]int
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			out = append(out, [2]int{base + start, base + i})
			start = i + 1
		}
	}
	return out
}

// spans lists, in order, the tokens of an SDP line that carry
// per-session values.
func spans(line string) []span {
	content := strings.TrimRight(line, "\r\n")
	attr := func(prefix string) ([][2]int, bool) {
		if !strings.HasPrefix(content, prefix) {
			return nil, false
		}
		return tokens(content[len(prefix):], len(prefix)), true
	}
	var out []span
	add := func(t [2]int, kind int) { out = append(out, span{t[0], t[1], kind}) }
	if t, ok := attr("o="); ok && len(t) >= 3 {
		add(t[1], kindU64)
		add(t[2], kindU64)
		return out
	}
	if t, ok := attr("a=ice-ufrag:"); ok && len(t) == 1 {
		add(t[0], kindICE)
		return out
	}
	if t, ok := attr("a=ice-pwd:"); ok && len(t) == 1 {
		add(t[0], kindICE)
		return out
	}
	if t, ok := attr("a=fingerprint:"); ok && len(t) == 2 {
		add(t[1], kindHex)
		return out
	}
	if t, ok := attr("a=candidate:"); ok && len(t) >= 8 {
		add(t[0], kindU32)
		add(t[3], kindU32)
		add(t[4], kindAddr)
		add(t[5], kindPort)
		for i := 6; i+1 < len(t); i += 2 {
			switch content[t[i][0]:t[i][1]] {
			case "raddr":
				add(t[i+1], kindAddr)
			case "rport":
				add(t[i+1], kindPort)
			case "ufrag":
				add(t[i+1], kindICE)
			}
		}
		return out
	}
	if t, ok := attr("a=ssrc:"); ok && len(t) >= 1 {
		add(t[0], kindU32)
		for i, tk := range t[1:] {
			word := content[tk[0]:tk[1]]
			if strings.HasPrefix(word, "msid:") {
				add([2]int{tk[0] + len("msid:"), tk[1]}, kindUUID)
				if i+2 < len(t) {
					add(t[i+2], kindUUID)
				}
			}
		}
		return out
	}
	if t, ok := attr("a=ssrc-group:"); ok {
		for _, tk := range t[1:] {
			add(tk, kindU32)
		}
		return out
	}
	if t, ok := attr("a=msid:"); ok {
		for _, tk := range t {
			add(tk, kindUUID)
		}
		return out
	}
	if t, ok := attr("a=msid-semantic:"); ok {
		for _, tk := range t {
			add(tk, kindUUID)
		}
	}
	return out
}

const iceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// encodeValue returns the binary form of tok as kind, or false if tok is
// not in the kind's canonical form.
func encodeValue(kind int, tok string) ([]byte, bool) {
	switch kind {
	case kindU32, kindU64, kindPort:
		if tok == "" || (tok[0] == '0' && len(tok) > 1) || tok[0] == '+' {
			return nil, false
		}
		bits := map[int]int{kindU32: 32, kindU64: 64, kindPort: 16}[kind]
		v, err := strconv.ParseUint(tok, 10, bits)
		if err != nil {
			return nil, false
		}
		switch kind {
		case kindU32:
			return binary.BigEndian.AppendUint32(nil, uint32(v)), true
		case kindPort:
			return binary.BigEndian.AppendUint16(nil, uint16(v)), true
		}
		return binary.AppendUvarint(nil, v), true
	case kindAddr:
		if host, ok := strings.CutSuffix(tok, ".local"); ok {
			u, ok := parseUUID(host)
			if !ok {
				return nil, false
			}
			return append([]byte{addrMDNS}, u...), true
		}
		a, err := netip.ParseAddr(tok)
		if err != nil || a.Zone() != "" || a.String() != tok {
			return nil, false
		}
		if a.Is4() {
			b := a.As4()
			return append([]byte{addrIPv4}, b[:]...), true
		}
		b := a.As16()
		return append([]byte{addrIPv6}, b[:]...), true
	case kindICE:
		if len(tok) == 0 || len(tok) > 255 {
			return nil, false
		}
		out := []byte{byte(len(tok))}
		var acc uint32
		var n uint
		for i := 0; i < len(tok); i++ {
			c := strings.IndexByte(iceChars, tok[i])
			if c < 0 {
				return nil, false
			}
			acc = acc<<6 | uint32(c)
			n += 6
			for n >= 8 {
				n -= 8
				out = append(out, byte(acc>>n))
			}
		}
		if n > 0 {
			out = append(out, byte(acc<<(8-n)))
		}
		return out, true
	case kindHex:
		parts := strings.Split(tok, ":")
		if len(parts) > 255 {
			return nil, false
		}
		out := []byte{byte(len(parts))}
		for _, p := range parts {
			if len(p) != 2 || strings.ToUpper(p) != p {
				return nil, false
			}
			v, err := strconv.ParseUint(p, 16, 8)
			if err != nil {
				return nil, false
			}
			out = append(out, byte(v))
		}
		return out, true
	case kindUUID:
		return parseUUID(tok)
	}
	return nil, false
}

// parseUUID returns the 16 bytes of a lower-case 8-4-4-4-12 UUID.
func parseUUID(s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	out := make([]byte, 0, 16)
	for i := 0; i < len(s); {
		if s[i] == '-' {
			i++
			continue
		}
		hi, lo := unhex(s[i]), unhex(s[i+1])
		if hi < 0 || lo < 0 {
			return nil, false
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	return out, len(out) == 16
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

func formatUUID(b []byte) string {
	const digits = "0123456789abcdef"
	var sb strings.Builder
	for i, v := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			sb.WriteByte('-')
		}
		sb.WriteByte(digits[v>>4])
		sb.WriteByte(digits[v&15])
	}
	return sb.String()
}

// errShort is the internal error for a values stream that ends early.
var errShort = errors.New("values end early")

// decodeValue reads one value of kind from r and renders it as text.
func decodeValue(kind int, r *bytes.Reader) (string, error) {
	take := func(n int) ([]byte, error) {
		if r.Len() < n {
			return nil, errShort
		}
		b := make([]byte, n)
		_, _ = r.Read(b)
		return b, nil
	}
	switch kind {
	case kindU32:
		b, err := take(4)
		if err != nil {
			return "", err
		}
		return strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10), nil
	case kindPort:
		b, err := take(2)
		if err != nil {
			return "", err
		}
		return strconv.FormatUint(uint64(binary.BigEndian.Uint16(b)), 10), nil
	case kindU64:
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return "", errShort
		}
		return strconv.FormatUint(v, 10), nil
	case kindAddr:
		tag, err := r.ReadByte()
		if err != nil {
			return "", errShort
		}
		switch tag {
		case addrIPv4:
			b, err := take(4)
			if err != nil {
				return "", err
			}
			return netip.AddrFrom4([4]byte(b)).String(), nil
		case addrIPv6:
			b, err := take(16)
			if err != nil {
				return "", err
			}
			return netip.AddrFrom16([16]byte(b)).String(), nil
		case addrMDNS:
			b, err := take(16)
			if err != nil {
				return "", err
			}
			return formatUUID(b) + ".local", nil
		}
		return "", fmt.Errorf("unknown address tag %d", tag)
	case kindICE:
		n, err := r.ReadByte()
		if err != nil || n == 0 {
			return "", errShort
		}
		b, err := take((int(n)*6 + 7) / 8)
		if err != nil {
			return "", err
		}
		out := make([]byte, n)
		for i := range out {
			bit := i * 6
			v := uint16(b[bit/8]) << 8
			if bit/8+1 < len(b) {
				v |= uint16(b[bit/8+1])
			}
			out[i] = iceChars[(v>>(10-bit%8))&63]
		}
		return string(out), nil
	case kindHex:
		n, err := r.ReadByte()
		if err != nil {
			return "", errShort
		}
		b, err := take(int(n))
		if err != nil {
			return "", err
		}
		parts := make([]string, len(b))
		for i, v := range b {
			parts[i] = fmt.Sprintf("%02X", v)
		}
		return strings.Join(parts, ":"), nil
	case kindUUID:
		b, err := take(16)
		if err != nil {
			return "", err
		}
		return formatUUID(b), nil
	}
	return "", fmt.Errorf("unknown value kind %d", kind)
}

// decodeCompact parses a cleaned compact blob.
func decodeCompact(text string) (webrtc.SessionDescription, error) {
	var none webrtc.SessionDescription
	body := text[len(compactPrefix):]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return none, fmt.Errorf("%w: character %q at position %d is not in a p2pcam blob", ErrMalformed, c, len(compactPrefix)+i)
		}
	}
	truncated := false
	if len(body)%4 == 1 { // no encoder makes this length: a cut
		body = body[:len(body)-1]
		truncated = true
	}
	payload, err := b64url.DecodeString(body)
	if err != nil {
		return none, fmt.Errorf("%w: invalid base64: %w", ErrMalformed, err)
	}
	total, n := binary.Uvarint(payload)
	switch {
	case n <= 0 && len(payload) < binary.MaxVarintLen64:
		return none, &TruncatedError{Len: len(text), Format: FormatCompact}
	case n <= 0:
		return none, ErrChecksum
	case total > uint64(len(payload)):
		return none, &TruncatedError{Len: len(text), Format: FormatCompact}
	case total < uint64(len(payload)) || truncated || len(payload) < n+4:
		return none, ErrChecksum
	}
	sum := binary.BigEndian.Uint32(payload[len(payload)-4:])
	payload = payload[:len(payload)-4]
	if crc32.ChecksumIEEE(payload) != sum {
		return none, ErrChecksum
	}
	sd, err := parseCompact(payload[n:])
	if err != nil {
		return none, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return sd, nil
}

// parseCompact parses a checksummed payload after the length field.
func parseCompact(p []byte) (webrtc.SessionDescription, error) {
	var none webrtc.SessionDescription
	r := bytes.NewReader(p)
	flags, err := r.ReadByte()
	if err != nil {
		return none, errShort
	}
	if flags&0xf0 != 0 {
		return none, fmt.Errorf("unknown flags %#x", flags)
	}
	typ := webrtc.SDPType(flags & 7)
	if !validType(typ) {
		return none, fmt.Errorf("unsupported session description type %d", flags&7)
	}
	zlen, err := binary.ReadUvarint(r)
	if err != nil || zlen > uint64(r.Len()) {
		return none, errors.New("bad skeleton length")
	}
	z := p[len(p)-r.Len():][:zlen]
	r = bytes.NewReader(p[len(p)-r.Len()+int(zlen):])

	zr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(z), bytes.NewReader(storedTail)), []byte(compactDict))
	skel, err := io.ReadAll(io.LimitReader(zr, maxSDPSize+1))
	if err != nil {
		return none, fmt.Errorf("skeleton: %w", err)
	}
	if len(skel) > maxSDPSize {
		return none, errors.New("skeleton too large")
	}
	if flags&flagRaw != 0 {
		if r.Len() != 0 {
			return none, errors.New("trailing bytes")
		}
		return webrtc.SessionDescription{Type: typ, SDP: string(skel)}, nil
	}

	var seen [numKinds][]string
	var out strings.Builder
	for i := 0; i < len(skel); i++ {
		c := skel[i]
		switch {
		case c >= markerNew && c < markerNew+numKinds:
			k := int(c - markerNew)
			if len(seen[k]) >= maxKindCount {
				return none, errors.New("too many values")
			}
			v, err := decodeValue(k, r)
			if err != nil {
				return none, err
			}
			seen[k] = append(seen[k], v)
			out.WriteString(v)
		case c >= markerRef && c < markerRef+numKinds:
			k := int(c - markerRef)
			if i+1 >= len(skel) || int(skel[i+1]) >= len(seen[k]) {
				return none, errors.New("bad value reference")
			}
			i++
			out.WriteString(seen[k][skel[i]])
		default:
			out.WriteByte(c)
		}
		if out.Len() > maxSDPSize {
			return none, errors.New("session description too large")
		}
	}
	if r.Len() != 0 {
		return none, errors.New("trailing bytes")
	}
	return webrtc.SessionDescription{Type: typ, SDP: out.String()}, nil
}
