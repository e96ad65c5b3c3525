package record

import (
	"os"

	"golang.org/x/sys/unix"
)

// livePipeSize is the capacity a live output's pipe is given: one page,
// the least Linux allows.
const livePipeSize = 4096

// shrinkPipe makes w's buffer one page if w is a pipe, so that the frames
// waiting for a slow reader wait in the live queue, which drops them, and
// not in the pipe, which would hand them to the reader late: a player
// that plays by the stream's clock stays as far behind as the stale video
// it read first. It reports whether it did; nothing else is changed.
func shrinkPipe(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return false
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) {
		_, ferr = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, livePipeSize)
	}); err != nil {
		return false
	}
	return ferr == nil
}
