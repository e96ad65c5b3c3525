//go:build !linux

package record

// shrinkPipe does nothing where the pipe buffer cannot be set (macOS's
// starts at 16 KiB); see pipe_linux.go.
func shrinkPipe(any) bool { return false }

// livePipeSize is only logged where shrinkPipe does nothing.
const livePipeSize = 0
