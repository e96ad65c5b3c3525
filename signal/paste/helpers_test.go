package paste

import (
	"context"
	"os"
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

// openPipe returns the two ends of a pipe (files, as stdin is), both
// closed when the test ends.
func openPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); r.Close() })
	return r, w
}

// checkRoutines fails t when a goroutine outlives it. Call it first: the
// check runs after every other cleanup of t (a pty closed, a pipe's
// writer closed), which is when the package's goroutines must be gone.
func checkRoutines(t *testing.T) {
	t.Helper()
	t.Cleanup(test.CheckRoutines(t))
}
