package signal

import (
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// Sentinel errors returned (wrapped) by Decode, DecodeAs and Encode, and
// by the readers of signal/paste.
// Each message reads as the tail of a one-line report.
var (
	// ErrEmpty means the input held nothing but whitespace, quotes or paste
	// markers.
	ErrEmpty = errors.New("no blob: the input is empty")
	// ErrNotBlob means the input is neither a p2pcam blob nor a WebRTC
	// session description in a known encoding.
	ErrNotBlob = errors.New("does not look like a p2pcam or WebRTC blob")
	// ErrChecksum means a compact blob arrived whole but its checksum does
	// not match: a character was changed on the way.
	ErrChecksum = errors.New("blob is corrupted: checksum mismatch")
	// ErrMalformed means the blob's encoding is invalid: bad base64, bad
	// JSON, or a compact payload that does not parse.
	ErrMalformed = errors.New("malformed blob")
	// ErrNoMedia means the session description has neither a video nor
	// an audio m-section: nothing a call could carry.
	ErrNoMedia = errors.New("session description has no video or audio section")
	// ErrTooLarge means the input exceeds MaxBlobSize; no blob is that big.
	ErrTooLarge = fmt.Errorf("input is larger than %d KiB, too large for a blob", MaxBlobSize/1024)
	// ErrNoFingerprint means a session description carries no DTLS
	// fingerprint, so no verification code can be derived.
	ErrNoFingerprint = errors.New("session description has no DTLS fingerprint")
)

// TruncatedError reports a blob that ends early, typically because the
// terminal or the copy cut it. Len is the number of blob characters
// received (whitespace excluded).
type TruncatedError struct {
	Len    int
	Format Format
}

func (e *TruncatedError) Error() string {
	switch {
	case near(e.Len, 4095):
		return "blob is truncated: your terminal cut the paste at 4095 characters"
	case near(e.Len, 1024):
		return "blob is truncated: your terminal cut the paste at 1024 characters"
	}
	return fmt.Sprintf("blob is truncated: got only %d characters", e.Len)
}

// near reports whether n is within one character (a newline) of limit.
func near(n, limit int) bool { return n >= limit-1 && n <= limit+1 }

// VersionError reports a compact blob of a format version this build does
// not know, made by a newer p2pcam.
type VersionError struct {
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("blob was made by a newer p2pcam (format version %d)", e.Version)
}

// TypeError reports a session description of the wrong type: an answer
// pasted where an offer belongs, or the reverse.
type TypeError struct {
	Got, Want webrtc.SDPType
}

func (e *TypeError) Error() string {
	switch {
	case e.Got == webrtc.SDPTypeAnswer && e.Want == webrtc.SDPTypeOffer:
		return "this is an answer blob; an offer blob belongs here"
	case e.Got == webrtc.SDPTypeOffer && e.Want == webrtc.SDPTypeAnswer:
		return "this is an offer blob; an answer blob belongs here"
	}
	return fmt.Sprintf("this is a session description of type %q, expected %q", e.Got, e.Want)
}
