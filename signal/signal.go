// Package signal is p2pcam's blob format: it turns a WebRTC session
// description into a blob, one line of text that can travel any way text
// does, and back (Encode, Decode), and it derives the verification code
// both sides of a call compute from their descriptions (VerificationCode).
//
// It does no input or output. How descriptions travel is one package per
// way: signal/paste carries blobs through people (printed, pasted into a
// terminal, piped or given in a file), signal/whip exchanges descriptions
// with a WHIP/WHEP server over HTTP. session imports this package only for
// VerificationCode, so a call links no terminal code through it.
//
// Three formats are understood. FormatCompact ("p2pcam1:..." for a call
// without sound, "p2pcam2:..." for one with it), p2pcam's own, carries
// only what varies per session and is a few hundred characters long,
// well under the 1024/4095 characters a terminal in canonical mode accepts
// on one line. FormatPion is base64 of the JSON session description, as
// pion's examples and browsers (btoa(JSON.stringify(desc))) make it.
// FormatJSON is that JSON unencoded. Decode detects the format by itself.
//
// An answer p2pcam makes names the offer it answers (TagAnswer), in every
// format, so that the offering side can refuse an answer made for another
// offer (CheckAnswer).
package signal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// MaxBlobSize is the largest input, in bytes, that Decode and the readers
// accept. Real blobs are far smaller (a pion-format offer with every default
// codec is about 8 KiB).
const MaxBlobSize = 64 << 10

// Format names a blob encoding.
type Format int

const (
	// FormatCompact is p2pcam's format: "p2pcam1:" (or "p2pcam2:", when
	// the description has sound) then unpadded URL-safe base64 of a
	// versioned, checksummed binary structure.
	FormatCompact Format = iota + 1
	// FormatPion is base64 (standard alphabet, padded) of the JSON session
	// description {"type":..,"sdp":..}, as made by pion's examples.
	FormatPion
	// FormatJSON is the JSON session description itself.
	FormatJSON
)

// String returns the format's name: "compact", "pion" or "json".
func (f Format) String() string {
	switch f {
	case FormatCompact:
		return "compact"
	case FormatPion:
		return "pion"
	case FormatJSON:
		return "json"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Encode returns sd as a blob in format f: a single line with no
// whitespace (FormatJSON aside, whose JSON has none outside strings).
// sd must be an offer, answer or pranswer whose SDP has a video or an
// audio m-section (sound alone is a call); Encode returns ErrNoMedia
// otherwise.
func Encode(sd webrtc.SessionDescription, f Format) (string, error) {
	if err := validate(sd); err != nil {
		return "", err
	}
	switch f {
	case FormatCompact:
		return encodeCompact(sd)
	case FormatPion, FormatJSON:
		js, err := json.Marshal(sd)
		if err != nil {
			return "", fmt.Errorf("encode session description: %w", err)
		}
		if f == FormatJSON {
			return string(js), nil
		}
		return base64.StdEncoding.EncodeToString(js), nil
	}
	return "", fmt.Errorf("encode session description: unknown format %d", int(f))
}

// Decode parses a blob in any of the three formats and reports which one
// it was. It ignores whitespace and line wraps (also "\r"), quotes around
// the blob (' " `) and bracketed-paste markers (ESC[200~, ESC[201~); the
// pion format may use the standard or URL alphabet, padded or not.
//
// Errors wrap ErrEmpty, ErrNotBlob, ErrTooLarge, ErrChecksum, ErrMalformed,
// ErrNoMedia, or are a *TruncatedError or *VersionError. Decode never
// panics and reads at most MaxBlobSize bytes of blob.
func Decode(blob string) (webrtc.SessionDescription, Format, error) {
	if len(blob) > MaxBlobSize {
		return webrtc.SessionDescription{}, 0, ErrTooLarge
	}
	text := clean(blob)
	if text == "" {
		return webrtc.SessionDescription{}, 0, ErrEmpty
	}
	var (
		sd  webrtc.SessionDescription
		f   Format
		err error
	)
	if v, ok := compactVersionOf(text); ok && (v < 1 || v > compactNewest) {
		return webrtc.SessionDescription{}, FormatCompact, &VersionError{Version: v}
	}
	cv, compact := compactVersionOfText(text)
	switch {
	case compact:
		f = FormatCompact
		sd, err = decodeCompact(text, cv)
	case text[0] == '{':
		f = FormatJSON
		sd, err = decodeJSON([]byte(text), len(text), f)
	default:
		f = FormatPion
		sd, err = decodePion(text)
	}
	if err != nil {
		return webrtc.SessionDescription{}, f, err
	}
	if err := validate(sd); err != nil {
		return webrtc.SessionDescription{}, f, err
	}
	return sd, f, nil
}

// DecodeAs is Decode followed by a check that the description has type
// want; a mismatch is a *TypeError.
func DecodeAs(blob string, want webrtc.SDPType) (webrtc.SessionDescription, Format, error) {
	sd, f, err := Decode(blob)
	if err != nil {
		return sd, f, err
	}
	if sd.Type != want {
		return webrtc.SessionDescription{}, f, &TypeError{Got: sd.Type, Want: want}
	}
	return sd, f, nil
}

// clean strips what a terminal or a chat window adds around a blob:
// bracketed-paste markers, surrounding quotes (also typographic ones),
// whitespace, and a sentence's full stop or comma after it. For JSON
// only line breaks are removed, since spaces inside its strings matter.
func clean(s string) string {
	s = strings.ReplaceAll(s, "\x1b[200~", "")
	s = strings.ReplaceAll(s, "\x1b[201~", "")
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(chatQuotes, r) })
	s = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(chatQuotes+".,;", r) })
	if strings.HasPrefix(s, "{") {
		return strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n', '\v', '\f':
			return -1
		}
		return r
	}, s)
}

// chatQuotes are the quotes people and chat programs put around text. No
// blob starts or ends with one of them, nor with . , or ;.
const chatQuotes = "'\"`“”‘’«»„"

// compactVersionOfText returns the compact version whose prefix starts
// text; false if none does.
func compactVersionOfText(text string) (compactVersion, bool) {
	for _, v := range compactVersions() {
		if strings.HasPrefix(text, v.prefix) {
			return v, true
		}
	}
	return compactVersion{}, false
}

// compactVersionOf parses the version in a "p2pcam<N>:" prefix.
func compactVersionOf(text string) (int, bool) {
	rest, ok := strings.CutPrefix(text, "p2pcam")
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, ":")
	if !ok || digits == "" || len(digits) > 6 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.Atoi(digits)
	return v, err == nil
}

// decodePion decodes base64 (either alphabet, padded or not) of JSON.
func decodePion(text string) (webrtc.SessionDescription, error) {
	var none webrtc.SessionDescription
	// JSON of a session description starts with '{' and a quote: "ey" in
	// base64. Anything else is not ours.
	if !strings.HasPrefix(text, "ey") {
		return none, ErrNotBlob
	}
	body := strings.TrimRight(text, "=")
	url := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; base64Alphabets(c) {
		case 0:
			r, pos := charAt(body, i)
			return none, fmt.Errorf("%w: invalid base64: character %q at position %d", ErrMalformed, r, pos)
		case urlAlphabet:
			url = true
		}
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	truncated := false
	if len(body)%4 == 1 { // no encoder makes this length: a cut
		body = body[:len(body)-1]
		truncated = true
	}
	js, err := enc.DecodeString(body)
	if err != nil {
		return none, fmt.Errorf("%w: invalid base64: %w", ErrMalformed, err)
	}
	sd, err := decodeJSON(js, len(text), FormatPion)
	if err == nil && truncated {
		return none, &TruncatedError{Len: len(text), Format: FormatPion}
	}
	return sd, err
}

// alphabets is a set of base64 alphabets (RFC 4648).
type alphabets uint8

const (
	stdAlphabet alphabets = 1 << iota // section 4: A-Z a-z 0-9 + /
	urlAlphabet                       // section 5: A-Z a-z 0-9 - _
)

// base64Alphabets returns the base64 alphabets that hold c; 0 if none.
// It is the one place package signal knows which characters base64 uses.
func base64Alphabets(c byte) alphabets {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return stdAlphabet | urlAlphabet
	case c == '+' || c == '/':
		return stdAlphabet
	case c == '-' || c == '_':
		return urlAlphabet
	}
	return 0
}

// decodeJSON parses a JSON session description; n is the blob length for
// a TruncatedError.
func decodeJSON(js []byte, n int, f Format) (webrtc.SessionDescription, error) {
	var none webrtc.SessionDescription
	var raw struct {
		Type *string `json:"type"`
		SDP  *string `json:"sdp"`
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	if err := dec.Decode(&raw); err != nil {
		var syn *json.SyntaxError
		if errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &syn) && syn.Offset >= int64(len(js))) {
			return none, &TruncatedError{Len: n, Format: f}
		}
		return none, fmt.Errorf("%w: invalid JSON: %w", ErrMalformed, err)
	}
	if raw.Type == nil || raw.SDP == nil {
		return none, fmt.Errorf("%w: JSON lacks \"type\" or \"sdp\"", ErrMalformed)
	}
	t := webrtc.NewSDPType(*raw.Type)
	if !validType(t) {
		return none, fmt.Errorf("%w: unsupported session description type %q", ErrMalformed, *raw.Type)
	}
	return webrtc.SessionDescription{Type: t, SDP: *raw.SDP}, nil
}

func validType(t webrtc.SDPType) bool {
	return t == webrtc.SDPTypeOffer || t == webrtc.SDPTypeAnswer || t == webrtc.SDPTypePranswer
}

// validate checks the type and that the SDP parses and has video or
// sound.
func validate(sd webrtc.SessionDescription) error {
	if !validType(sd.Type) {
		return fmt.Errorf("%w: unsupported session description type %q", ErrMalformed, sd.Type)
	}
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(sd.SDP); err != nil {
		return fmt.Errorf("%w: invalid SDP: %w", ErrMalformed, err)
	}
	for _, m := range parsed.MediaDescriptions {
		if m.MediaName.Media == "video" || m.MediaName.Media == "audio" {
			return nil
		}
	}
	return ErrNoMedia
}
