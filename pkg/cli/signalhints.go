package cli

import "github.com/p2pcam/p2pcam/signal"

// signalHints returns the advice of the ways of signaling: calls by code,
// and the copy-paste exchange's for a blob that would not decode.
func signalHints(err error) []string {
	if h := codeHints(err); h != nil {
		return h
	}
	if a := signal.Advice(err); a != "" {
		return []string{a}
	}
	return nil
}
