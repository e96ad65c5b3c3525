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
	"strings"

	"github.com/pion/webrtc/v4"
)

// The compact format, versions 1 and 2.
//
// Text: the version's prefix (CompactPrefix, CompactPrefixV2), then
// unpadded URL-safe base64 of the payload.
//
// Payload:
//
//	uvarint  total payload length, this field and the checksum included
//	byte     flags: bits 0-2 SDP type (webrtc.SDPType), bit 3 raw mode,
//	         bits 4-7 zero
//	uvarint  length of the skeleton stream
//	...      skeleton: the SDP text, raw DEFLATE with the version's preset
//	         dictionary, where each per-session value is replaced by a
//	         marker (see below); the stream ends with an empty stored
//	         final block whose last 4 bytes (LEN 0, NLEN 0xffff) are left
//	         out
//	...      values: the binary form of each new value, in marker order
//	         (each kind's is in values.go)
//	4 bytes  CRC-32 (IEEE, big endian) of everything before it
//
// The two versions differ only in the dictionary: version 1's
// (compactDict) holds a video-only call, version 2's (compactDictV2) a
// call with a VP8 and an Opus section. Encode writes version 2 only for a
// description with an audio section, where it saves about a third of the
// blob; a video-only description stays version 1, byte for byte as
// before, so a p2pcam that predates version 2 still reads every blob of a
// call without sound.
//
// CompactPrefix starts every version 1 blob, CompactPrefixV2 every version
// 2 blob. No blob holds either anywhere but at its start (base64 has no
// colon), so a second one in pasted text begins a new blob.
const (
	CompactPrefix   = "p2pcam1:"
	CompactPrefixV2 = "p2pcam2:"
)

// A marker is one byte 0x10+k (the next new value of kind k, read from the
// values stream) or two bytes 0x18+k, i (the i-th value of kind k seen so
// far, for repeats such as the ufrag in every candidate). Only canonical
// values are replaced (ones whose binary form renders back to the same
// text), so decoding is lossless for any SDP. In raw mode (an SDP that
// already holds bytes 0x10-0x1f) nothing is replaced.
const (
	flagRaw      = 1 << 3
	markerNew    = 0x10
	markerRef    = 0x18
	maxKindCount = 256
	// maxSDPSize bounds the decoded SDP and the inflated skeleton.
	maxSDPSize = 4 * MaxBlobSize
)

// compactVersion is one version of the compact format: its prefix and
// its DEFLATE preset dictionary.
type compactVersion struct {
	prefix string
	dict   string
}

// compactNewest is the newest compact version this build reads and writes.
const compactNewest = 2

// compactVersions returns the versions this build reads, oldest first.
func compactVersions() [compactNewest]compactVersion {
	return [compactNewest]compactVersion{
		{CompactPrefix, compactDict},
		{CompactPrefixV2, compactDictV2},
	}
}

// compactVersionFor returns the version Encode writes for an SDP: 2 when
// it has an audio section, else 1.
func compactVersionFor(text string) compactVersion {
	vs := compactVersions()
	if strings.HasPrefix(text, "m=audio ") || strings.Contains(text, "\nm=audio ") {
		return vs[1]
	}
	return vs[0]
}

var b64url = base64.RawURLEncoding

// storedTail ends every DEFLATE stream compress/flate writes (an empty
// final stored block); the compact format leaves it out.
var storedTail = []byte{0x00, 0x00, 0xff, 0xff}

// encodeCompact builds a compact blob from a validated description, in
// the version compactVersionFor picks.
func encodeCompact(sd webrtc.SessionDescription) (string, error) {
	return encodeCompactAs(sd, compactVersionFor(sd.SDP))
}

// encodeCompactAs builds a compact blob of version v.
func encodeCompactAs(sd webrtc.SessionDescription, v compactVersion) (string, error) {
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
	zw, err := flate.NewWriterDict(&z, flate.BestCompression, []byte(v.dict))
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
	return v.prefix + b64url.EncodeToString(payload), nil
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
	v, ok := kinds[kind].encode(tok)
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
	if t, ok := attr("a=" + offerTagAttr + ":"); ok && len(t) == 1 {
		add(t[0], kindHex)
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

// decodeCompact parses a cleaned compact blob of version v.
func decodeCompact(text string, v compactVersion) (webrtc.SessionDescription, error) {
	var none webrtc.SessionDescription
	body := text[len(v.prefix):]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if base64Alphabets(c)&urlAlphabet == 0 {
			r, pos := charAt(text, len(v.prefix)+i)
			return none, fmt.Errorf("%w: character %q at position %d is not in a p2pcam blob", ErrMalformed, r, pos)
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
	sd, err := parseCompact(payload[n:], v.dict)
	if err != nil {
		return none, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return sd, nil
}

// parseCompact parses a checksummed payload after the length field; dict
// is its version's preset dictionary.
func parseCompact(p []byte, dict string) (webrtc.SessionDescription, error) {
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

	zr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(z), bytes.NewReader(storedTail)), []byte(dict))
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
			v, err := kinds[k].decode(r)
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
