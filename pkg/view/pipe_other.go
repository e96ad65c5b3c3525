//go:build !linux

package view

import "os"

// sizePipe does nothing here: only Linux lets a pipe's buffer be sized.
func sizePipe(f *os.File, picture int) {}
