//go:build darwin || freebsd || netbsd || openbsd

package paste

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
	// ioctlSetTermiosFlush sets after discarding pending input.
	ioctlSetTermiosFlush = unix.TIOCSETAF
)
