package signal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// VerificationCode returns a short code, six digits grouped as "123 456",
// derived from the DTLS fingerprints (RFC 8122 §5) of both descriptions.
// Both sides compute the same code whichever is local, since the two
// fingerprint sets are sorted first. A man in the middle must rewrite the
// fingerprints to terminate DTLS himself, so the users comparing codes
// (read aloud, say) see different ones. It returns ErrNoFingerprint if
// either description has none, or ErrMalformed if an SDP does not parse.
func VerificationCode(local, remote webrtc.SessionDescription) (string, error) {
	a, err := fingerprints(local)
	if err != nil {
		return "", err
	}
	b, err := fingerprints(remote)
	if err != nil {
		return "", err
	}
	sides := []string{a, b}
	slices.Sort(sides)
	h := sha256.Sum256([]byte("p2pcam verification v1\n" + sides[0] + "\n" + sides[1]))
	n := binary.BigEndian.Uint64(h[:8]) % 1_000_000
	return fmt.Sprintf("%03d %03d", n/1000, n%1000), nil
}

// fingerprints returns one side's fingerprints, normalized and sorted,
// joined by commas.
func fingerprints(sd webrtc.SessionDescription) (string, error) {
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(sd.SDP); err != nil {
		return "", fmt.Errorf("%w: invalid SDP: %w", ErrMalformed, err)
	}
	var fps []string
	collect := func(attrs []sdp.Attribute) {
		for _, a := range attrs {
			if a.Key == "fingerprint" {
				alg, hex, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
				if ok {
					fps = append(fps, strings.ToLower(alg)+" "+strings.ToUpper(strings.TrimSpace(hex)))
				}
			}
		}
	}
	collect(parsed.Attributes)
	for _, m := range parsed.MediaDescriptions {
		collect(m.Attributes)
	}
	if len(fps) == 0 {
		return "", ErrNoFingerprint
	}
	slices.Sort(fps)
	return strings.Join(slices.Compact(fps), ","), nil
}
