//go:build !(linux || freebsd || netbsd || openbsd || dragonfly)

package view

import (
	"errors"
	"sync"
)

// canRetitle: elsewhere (macOS's Cocoa windows, Windows) another process
// cannot set a player's window title.
func canRetitle() bool { return false }

func keepTitle(pid int, title string, stop <-chan struct{}, wg *sync.WaitGroup, logf func(msg string, args ...any)) error {
	return errors.ErrUnsupported
}
