//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package paste

import (
	"io"
)

// input is piped input. On this system a read in progress cannot be
// stopped: stop ends the reads after it, and one already blocked ends when
// the reader returns.
type input struct {
	r io.Reader
	stopFlag
}

func newInput(r io.Reader) *input { return &input{r: r} }

func (in *input) Read(p []byte) (int, error) {
	if in.isStopped() {
		return 0, errStopped
	}
	return in.r.Read(p)
}

func (in *input) interruptible() bool { return false }

func (in *input) stop() {
	in.mu.Lock()
	in.stopped = true
	in.mu.Unlock()
}

func (in *input) release() {}
