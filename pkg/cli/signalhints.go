package cli

import (
	"errors"

	"github.com/p2pcam/p2pcam/signal"
)

// signalHints returns the advice for the failures of calls by code
// (codeHints), for a blob that would not decode (an error from
// signal.Decode or DecodeAs, or a paste read), or nil when the error line
// says all there is to say.
func signalHints(err error) []string {
	if h := codeHints(err); h != nil {
		return h
	}
	if a := blobAdvice(err); a != "" {
		return []string{a}
	}
	return nil
}

// blobAdvice says what a person should do about a blob that would not
// decode, or "" when there is nothing to add to the error itself.
func blobAdvice(err error) string {
	var (
		te *signal.TruncatedError
		ve *signal.VersionError
		ty *signal.TypeError
	)
	switch {
	case errors.As(err, &te):
		return "copy the whole blob again; to dodge terminal limits, save it to a file and use --remote FILE, or pass it as an argument in quotes"
	case errors.Is(err, signal.ErrChecksum):
		return "the blob was changed on the way: copy it again, whole and unedited"
	case errors.As(err, &ve):
		return "update p2pcam on this machine to the version on the other side"
	case errors.As(err, &ty):
		return "offer blobs go into p2pcam answer; answer blobs go back into p2pcam offer"
	case errors.Is(err, signal.ErrNotBlob), errors.Is(err, signal.ErrMalformed):
		return "paste the line that starts with p2pcam1: or p2pcam2: (or a base64 blob from a browser page), whole"
	}
	return ""
}
