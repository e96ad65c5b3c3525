//go:build linux || darwin || freebsd || netbsd || openbsd

package paste

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// input is piped input whose reads stop can end, also one in progress.
// When it is a file (stdin, a named pipe), each read first polls the file
// together with a wake-up pipe that stop writes to. Any other reader (a
// buffer, in tests) is read directly: stop ends the reads after it, and
// one already blocked ends only when the reader returns.
type input struct {
	r    io.Reader
	fd   int    // the file's descriptor; -1: not a file
	wake [2]int // the wake-up pipe, when fd is set

	stopFlag
}

// newInput returns r as an input. A file whose descriptor cannot be had,
// or a system out of pipes, gives an input that only stop's later reads
// see.
func newInput(r io.Reader) *input {
	in := &input{r: r, fd: -1}
	f, ok := r.(*os.File)
	if !ok {
		return in
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return in
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil || fd < 0 {
		return in
	}
	if err := unix.Pipe(in.wake[:]); err != nil {
		return in
	}
	unix.CloseOnExec(in.wake[0])
	unix.CloseOnExec(in.wake[1])
	in.fd = fd
	return in
}

// Read reads from the input, waiting until it has data, ends, or stop is
// called.
func (in *input) Read(p []byte) (int, error) {
	if in.isStopped() {
		return 0, errStopped
	}
	if in.fd < 0 {
		return in.r.Read(p)
	}
	for {
		fds := []unix.PollFd{{Fd: int32(in.fd), Events: unix.POLLIN}, {Fd: int32(in.wake[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return 0, err
		}
		if fds[1].Revents != 0 {
			return 0, errStopped
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(in.fd, p)
		switch {
		case errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN):
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// interruptible reports whether stop ends a read in progress.
func (in *input) interruptible() bool { return in.fd >= 0 }

// stop ends the reads in progress (on a file) and all later ones. It may
// be called more than once, from any goroutine.
func (in *input) stop() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stopped {
		return
	}
	in.stopped = true
	if in.fd >= 0 {
		_, _ = unix.Write(in.wake[1], []byte{0})
	}
}

// release frees the wake-up pipe; call it after stop, once no read is in
// progress.
func (in *input) release() {
	if in.fd >= 0 {
		unix.Close(in.wake[0])
		unix.Close(in.wake[1])
		in.fd = -1
	}
}
