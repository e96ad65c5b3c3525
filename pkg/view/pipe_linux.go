package view

import (
	"os"

	"golang.org/x/sys/unix"
)

// sizePipe sets the pipe's buffer to the largest power of two not above
// picture bytes (at least the 64 KiB it has): a picture then goes in a
// few writes, not twenty-odd turns between p2pcam and the player, and
// the pipe still cannot hold a whole picture, so none waits in it behind
// the one being read. Above what this user may have
// (/proc/sys/fs/pipe-max-size, 1 MiB by default) it stays as it is.
func sizePipe(f *os.File, picture int) {
	size := 64 << 10
	for size*2 <= picture {
		size *= 2
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
	})
}
