package signal

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// ErrOtherOffer means an answer names an offer other than the one this
// side printed: it was made for another call (an earlier try, another
// window), so applying it could only fail later, and for a wrong reason.
var ErrOtherOffer = errors.New("this answer is for a different offer")

// An answer p2pcam prints names the offer it answers in one session-level
// SDP attribute (RFC 8866 §5.13), "a=p2pcam-offer:" then the offer's tag:
// the first tagLen bytes of SHA-256 over the offer's ICE ufrags (RFC 8839
// §5.4) and DTLS fingerprints (RFC 8122 §5), written as colon-separated
// upper-case hex. Both are random per call, so a tag tells calls apart.
// It is an ordinary attribute that WebRTC stacks (pion, browsers, older
// p2pcam builds) ignore, so every compact format version carries it
// unchanged in either direction; its hex is a value of the compact
// format, which keeps it to about 20 characters of a blob (version 2's
// dictionary holds the line itself).
const (
	offerTagAttr = "p2pcam-offer"
	tagLen       = 4
)

// offerTag returns the tag of an offer.
func offerTag(offer webrtc.SessionDescription) (string, error) {
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(offer.SDP); err != nil {
		return "", fmt.Errorf("%w: invalid SDP: %w", ErrMalformed, err)
	}
	var ufrags []string
	collect := func(attrs []sdp.Attribute) {
		for _, a := range attrs {
			if a.Key == "ice-ufrag" {
				ufrags = append(ufrags, strings.TrimSpace(a.Value))
			}
		}
	}
	collect(parsed.Attributes)
	for _, m := range parsed.MediaDescriptions {
		collect(m.Attributes)
	}
	slices.Sort(ufrags)
	fps, err := fingerprints(offer)
	if err != nil && !errors.Is(err, ErrNoFingerprint) {
		return "", err
	}
	h := sha256.Sum256([]byte("p2pcam offer tag v1\n" + strings.Join(slices.Compact(ufrags), ",") + "\n" + fps))
	hex := make([]string, tagLen)
	for i, b := range h[:tagLen] {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hex, ":"), nil
}

// answerTag returns the tag an answer carries, or "" when it has none (an
// answer from a browser, a pion example, or a p2pcam before tags).
func answerTag(answer webrtc.SessionDescription) string {
	prefix := "a=" + offerTagAttr + ":"
	for _, line := range strings.Split(answer.SDP, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "m=") {
			break
		}
		if tag, ok := strings.CutPrefix(line, prefix); ok {
			return strings.TrimSpace(tag)
		}
	}
	return ""
}

// TagAnswer returns answer with a line naming offer added at the end of
// its session section, before the first m= line.
func TagAnswer(answer, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	tag, err := offerTag(offer)
	if err != nil {
		return answer, err
	}
	eol := "\r\n"
	if !strings.Contains(answer.SDP, "\r\n") {
		eol = "\n"
	}
	line := "a=" + offerTagAttr + ":" + tag + eol
	text := answer.SDP
	switch i := strings.Index(text, "\nm="); {
	case strings.HasPrefix(text, "m="):
		text = line + text
	case i >= 0:
		text = text[:i+1] + line + text[i+1:]
	default:
		if !strings.HasSuffix(text, "\n") {
			text += eol
		}
		text += line
	}
	answer.SDP = text
	return answer, nil
}

// CheckAnswer returns ErrOtherOffer when answer carries the tag of an
// offer other than offer. An answer without a tag passes: nothing in a
// plain SDP answer ties it to its offer (its ufrag, password and
// fingerprint are all the answerer's own), so only p2pcam's answers can be
// checked.
func CheckAnswer(answer, offer webrtc.SessionDescription) error {
	got := answerTag(answer)
	if got == "" {
		return nil
	}
	want, err := offerTag(offer)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, want) {
		return ErrOtherOffer
	}
	return nil
}
