//go:build unix

package view

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the player in a process group of its own, so that
// Ctrl-C in the terminal interrupts p2pcam alone, which then closes the
// window itself, rather than also killing the player with a status of
// its own.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
