//go:build !cgo || nosdl

package view

import "errors"

// Screen opens windows; in a build without windows (without cgo, which
// loading SDL2 needs, or with the nosdl tag, for a static build) it has
// none to open.
type Screen struct{}

// RunMain runs run and returns what it returns. A build without windows has
// no windows, so no loop runs beside it.
func RunMain(run func(*Screen) int) int { return run(&Screen{}) }

// Check says why no window can open: no display (ErrNoDisplay), or
// ErrNoWindows.
func (s *Screen) Check() error {
	if err := checkEnv(); errors.Is(err, ErrNoDisplay) {
		return err
	}
	return ErrNoWindows
}

// Open fails with ErrNoWindows.
func (s *Screen) Open(Options) (Viewer, error) { return nil, ErrNoWindows }
