package cli

import "github.com/p2pcam/p2pcam/signal"

// signalHints returns the copy-paste exchange's advice for a blob that
// would not decode.
func signalHints(err error) []string {
	if a := signal.Advice(err); a != "" {
		return []string{a}
	}
	return nil
}
