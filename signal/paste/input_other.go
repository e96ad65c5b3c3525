//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package paste

import (
	"errors"
	"io"
	"sync"
)

// input is piped input. On this system a read in progress cannot be
// stopped: stop ends the reads after it, and one already blocked ends when
// the reader returns.
type input struct {
	r       io.Reader
	mu      sync.Mutex
	stopped bool
}

func newInput(r io.Reader) *input { return &input{r: r} }

var errStopped = errors.New("read of the blob input stopped")

func (in *input) Read(p []byte) (int, error) {
	in.mu.Lock()
	stopped := in.stopped
	in.mu.Unlock()
	if stopped {
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
