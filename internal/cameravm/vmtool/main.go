//go:build linux

// Command vmtool is the helper p2pcam's camera VM check runs inside the
// guest, where busybox has no V4L2 or media tools:
//
//	vmtool ivf FILE               print an IVF file's header fields and frame count
//	vmtool ctrl DEVICE ID VALUE   set a V4L2 control (ID in hex or decimal)
//
// It is built statically on the host (CGO_ENABLED=0) and copied into the
// initramfs by scripts/camera-vm/run.sh. It prints results on stdout and
// one-line errors on stderr, exiting 1 on failure and 2 on misuse.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/p2pcam/p2pcam/internal/cameravm"
)

const usage = "usage: vmtool ivf FILE | vmtool ctrl DEVICE ID VALUE"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, out, errw io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(errw, usage)
		return 2
	}
	var err error
	switch {
	case args[0] == "ivf" && len(args) == 2:
		err = summariseIVF(out, args[1])
	case args[0] == "ctrl" && len(args) == 4:
		err = setControl(args[1], args[2], args[3])
		if err == nil {
			fmt.Fprintf(out, "set control %s to %s on %s\n", args[2], args[3], args[1])
		}
	default:
		fmt.Fprintln(errw, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(errw, "vmtool: %v\n", err)
		return 1
	}
	return 0
}

func summariseIVF(out io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := cameravm.ReadIVF(f)
	fmt.Fprintln(out, info)
	return err
}

// v4l2Control is struct v4l2_control from linux/videodev2.h.
type v4l2Control struct {
	ID    uint32
	Value int32
}

// vidiocSCtrl is VIDIOC_S_CTRL, _IOWR('V', 28, struct v4l2_control).
const vidiocSCtrl = 0xc008561c

func setControl(dev, idArg, valueArg string) error {
	id, err := strconv.ParseUint(idArg, 0, 32)
	if err != nil {
		return fmt.Errorf("control id %q: %w", idArg, err)
	}
	v, err := strconv.ParseInt(valueArg, 0, 32)
	if err != nil {
		return fmt.Errorf("control value %q: %w", valueArg, err)
	}
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dev, err)
	}
	defer unix.Close(fd)
	c := v4l2Control{ID: uint32(id), Value: int32(v)}
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), vidiocSCtrl, uintptr(unsafe.Pointer(&c)))
		if errno == 0 {
			return nil
		}
		if !errors.Is(errno, unix.EINTR) {
			return fmt.Errorf("set control %#x on %s: %w", id, dev, errno)
		}
	}
}
