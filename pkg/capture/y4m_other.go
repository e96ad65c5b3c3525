//go:build !unix

package capture

import (
	"errors"
	"os"
)

// pollable returns f itself: without Unix descriptors a read that waits
// ends only with its writer.
func pollable(f *os.File) (*os.File, error) { return f, nil }

// openWriterNow is not available without Unix named pipes.
func openWriterNow(string) (*os.File, error) {
	return nil, errors.New("named pipes need a Unix system")
}
