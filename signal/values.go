package signal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Value kinds. Their numbers are part of the compact format: marker bytes
// 0x10+k and 0x18+k name kind k.
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

// kindCodec is the binary form of one kind of per-session value in the
// compact format's values stream.
//
// encode returns the binary form of tok, or false if tok is not in the
// kind's canonical form: only text that decode renders back identically
// is replaced, which keeps the compact format lossless for any SDP.
// decode reads one value from r and renders it as text; a stream that
// ends early gives errShort.
type kindCodec struct {
	encode func(tok string) ([]byte, bool)
	decode func(r *bytes.Reader) (string, error)
}

// kinds holds the codec of each value kind, indexed by kind.
var kinds = [numKinds]kindCodec{
	kindU32:  {encodeU32, decodeU32},
	kindU64:  {encodeU64, decodeU64},
	kindPort: {encodePort, decodePort},
	kindAddr: {encodeAddr, decodeAddr},
	kindICE:  {encodeICE, decodeICE},
	kindHex:  {encodeHex, decodeHex},
	kindUUID: {encodeUUID, decodeUUID},
}

// errShort is the internal error for a values stream that ends early.
var errShort = errors.New("values end early")

// take reads the next n bytes of r.
func take(r *bytes.Reader, n int) ([]byte, error) {
	if r.Len() < n {
		return nil, errShort
	}
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b, nil
}

// parseDecimal parses a canonical decimal of at most bits bits: no sign,
// no leading zero.
func parseDecimal(tok string, bits int) (uint64, bool) {
	if tok == "" || (tok[0] == '0' && len(tok) > 1) || tok[0] == '+' {
		return 0, false
	}
	v, err := strconv.ParseUint(tok, 10, bits)
	return v, err == nil
}

func encodeU32(tok string) ([]byte, bool) {
	v, ok := parseDecimal(tok, 32)
	if !ok {
		return nil, false
	}
	return binary.BigEndian.AppendUint32(nil, uint32(v)), true
}

func decodeU32(r *bytes.Reader) (string, error) {
	b, err := take(r, 4)
	if err != nil {
		return "", err
	}
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10), nil
}

func encodeU64(tok string) ([]byte, bool) {
	v, ok := parseDecimal(tok, 64)
	if !ok {
		return nil, false
	}
	return binary.AppendUvarint(nil, v), true
}

func decodeU64(r *bytes.Reader) (string, error) {
	v, err := binary.ReadUvarint(r)
	if err != nil {
		return "", errShort
	}
	return strconv.FormatUint(v, 10), nil
}

func encodePort(tok string) ([]byte, bool) {
	v, ok := parseDecimal(tok, 16)
	if !ok {
		return nil, false
	}
	return binary.BigEndian.AppendUint16(nil, uint16(v)), true
}

func decodePort(r *bytes.Reader) (string, error) {
	b, err := take(r, 2)
	if err != nil {
		return "", err
	}
	return strconv.FormatUint(uint64(binary.BigEndian.Uint16(b)), 10), nil
}

// Address tags of kindAddr.
const (
	addrIPv4 = iota
	addrIPv6
	addrMDNS
)

func encodeAddr(tok string) ([]byte, bool) {
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
}

func decodeAddr(r *bytes.Reader) (string, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return "", errShort
	}
	switch tag {
	case addrIPv4:
		b, err := take(r, 4)
		if err != nil {
			return "", err
		}
		return netip.AddrFrom4([4]byte(b)).String(), nil
	case addrIPv6:
		b, err := take(r, 16)
		if err != nil {
			return "", err
		}
		return netip.AddrFrom16([16]byte(b)).String(), nil
	case addrMDNS:
		b, err := take(r, 16)
		if err != nil {
			return "", err
		}
		return formatUUID(b) + ".local", nil
	}
	return "", fmt.Errorf("unknown address tag %d", tag)
}

// iceChars are the ice-chars of RFC 8839 section 5.4; a character's
// index is its 6-bit code (base64's order).
const iceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func encodeICE(tok string) ([]byte, bool) {
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
}

func decodeICE(r *bytes.Reader) (string, error) {
	n, err := r.ReadByte()
	if err != nil || n == 0 {
		return "", errShort
	}
	b, err := take(r, (int(n)*6+7)/8)
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
}

func encodeHex(tok string) ([]byte, bool) {
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
}

func decodeHex(r *bytes.Reader) (string, error) {
	n, err := r.ReadByte()
	if err != nil {
		return "", errShort
	}
	b, err := take(r, int(n))
	if err != nil {
		return "", err
	}
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = fmt.Sprintf("%02X", v)
	}
	return strings.Join(parts, ":"), nil
}

func encodeUUID(tok string) ([]byte, bool) { return parseUUID(tok) }

func decodeUUID(r *bytes.Reader) (string, error) {
	b, err := take(r, 16)
	if err != nil {
		return "", err
	}
	return formatUUID(b), nil
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

// formatUUID renders 16 bytes as a lower-case 8-4-4-4-12 UUID.
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

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}
