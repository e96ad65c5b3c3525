//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package paste

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/signal"
)

// ReadTerminal is not supported on this system; use Read.
func ReadTerminal(ctx context.Context, tty *os.File, errOut io.Writer, want webrtc.SDPType, hints func(error) []string) (webrtc.SessionDescription, signal.Format, error) {
	return webrtc.SessionDescription{}, 0, errors.New("read blob from terminal: not supported on this system")
}

func readTerminal(ctx context.Context, tty *os.File, errOut io.Writer, want webrtc.SDPType, hints func(error) []string, _ *Other) (webrtc.SessionDescription, signal.Format, error) {
	return ReadTerminal(ctx, tty, errOut, want, hints)
}

// QuietTerminal does nothing on this system; restore is a no-op.
func QuietTerminal(tty *os.File) (restore func()) { return func() {} }
