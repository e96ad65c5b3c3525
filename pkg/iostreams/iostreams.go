// Package iostreams is p2pcam's view of the terminal: the standard streams a
// command runs with (injected, so that tests drive commands with buffers and
// pretend to be a terminal) and the Console that prints progress for a
// person on the error stream, under a status line kept in place.
//
// Everything that talks to a person uses these: the command line and the
// copy-paste exchange of blobs. The media pipeline below never does.
package iostreams

import (
	"io"
	"os"
)

// Streams are the standard streams of one command. In and Out carry the
// product (blobs, device lists, video with -o -); Err carries everything
// meant for a person.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTerminal is In when it is an interactive terminal, else nil: blobs
	// are then read in raw mode, without the terminal's line limit.
	InTerminal *os.File
	// TTY opens the controlling terminal (/dev/tty), where a person
	// pastes blobs when In carries something else (video); nil: there is
	// none. The caller closes what it returns.
	TTY func() (*os.File, error)
	// OutTerminal and ErrTerminal say whether Out and Err are terminals.
	OutTerminal bool
	ErrTerminal bool
}
