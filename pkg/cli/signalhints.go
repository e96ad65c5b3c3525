package cli

import (
	"errors"

	"github.com/p2pcam/p2pcam/signal"
)

// signalHints explains blob errors.
func signalHints(err error) []string {
	var (
		te *signal.TruncatedError
		ve *signal.VersionError
		ty *signal.TypeError
	)
	switch {
	case errors.As(err, &te):
		return []string{"copy the whole blob again; to dodge terminal limits, save it to a file and use --remote FILE, or pass it as an argument in quotes"}
	case errors.Is(err, signal.ErrChecksum):
		return []string{"the blob was changed on the way: copy it again, whole and unedited"}
	case errors.As(err, &ve):
		return []string{"update p2pcam on this machine to the version on the other side"}
	case errors.As(err, &ty):
		return []string{"offer blobs go into p2pcam answer; answer blobs go back into p2pcam offer"}
	}
	return nil
}
