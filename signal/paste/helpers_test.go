package paste

import (
	"context"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
)

// deadline returns a context that ends with the test or after d.
func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// checkRoutines fails t when a goroutine outlives it. Call it first: the
// check runs after every other cleanup of t (a pty closed, a pipe's
// writer closed), which is when the package's goroutines must be gone.
func checkRoutines(t *testing.T) {
	t.Helper()
	t.Cleanup(test.CheckRoutines(t))
}
