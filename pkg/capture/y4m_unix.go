//go:build unix

package capture

import (
	"os"

	"golang.org/x/sys/unix"
)

// pollable returns a descriptor of its own for f in non-blocking mode, so
// that Go's poller serves its reads and closing it ends a read that waits.
// f stays open; the caller closes the copy.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// openWriterNow opens a named pipe's writing end without waiting; it fails
// when no reader has the pipe open.
func openWriterNow(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}
