package paste

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
	// ioctlSetTermiosFlush sets after discarding pending input.
	ioctlSetTermiosFlush = unix.TCSETSF
)
