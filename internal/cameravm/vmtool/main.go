//go:build linux

// Command vmtool is the helper p2pcam's camera VM check runs inside the
// guest, where busybox has no V4L2 or media tools:
//
//	vmtool ivf FILE               print an IVF file's header fields and frame count
//	vmtool ctrl DEVICE CTRL VALUE set a V4L2 control, named by its id (hex or
//	                              decimal) or its name ("Disconnect")
//	vmtool ctrls DEVICE           list the device's controls: id, type, name
//	vmtool fmt DEVICE             print the capture format and frame rate set now
//	vmtool feed DEVICE FPS BAD FILE.jpg...
//	                              be a webcam on a v4l2loopback DEVICE: set its output
//	                              to MJPEG at FPS and write the JPEG files in a loop,
//	                              Huffman tables taken out as UVC cameras send them;
//	                              every BAD-th frame (0: none) is written cut in half
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
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/p2pcam/p2pcam/internal/cameravm"
)

const usage = "usage: vmtool ivf FILE | vmtool ctrl DEVICE CTRL VALUE | vmtool ctrls DEVICE | vmtool fmt DEVICE | vmtool feed DEVICE FPS BAD FILE.jpg..."

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
	case args[0] == "ctrls" && len(args) == 2:
		var cs []control
		if cs, err = controls(args[1]); err == nil {
			for _, c := range cs {
				fmt.Fprintf(out, "0x%08x %-8s %s\n", c.id, c.kind, c.name)
			}
		}
	case args[0] == "fmt" && len(args) == 2:
		var f string
		if f, err = captureFormat(args[1]); err == nil {
			fmt.Fprintln(out, f)
		}
	case args[0] == "feed" && len(args) >= 5:
		err = feed(args[1], args[2], args[3], args[4:], out)
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

// ioctl calls the V4L2 ioctl req on dev with arg, retrying on EINTR.
func ioctl(dev string, req uintptr, arg unsafe.Pointer) error {
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dev, err)
	}
	defer unix.Close(fd)
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if errno == 0 {
			return nil
		}
		if !errors.Is(errno, unix.EINTR) {
			return errno
		}
	}
}

// v4l2Format is struct v4l2_format for a capture buffer type: the union
// starts 8 bytes in (it holds pointers), 208 bytes in all.
type v4l2Format struct {
	Type uint32
	_    uint32
	Pix  struct {
		Width, Height, PixelFormat uint32
	}
	_ [200 - 12]byte
}

// v4l2Streamparm is struct v4l2_streamparm with its capture member.
type v4l2Streamparm struct {
	Type       uint32
	Capability uint32
	Mode       uint32
	// TimePerFrame is a fraction of a second: numerator, denominator.
	TimePerFrame [2]uint32
	_            [200 - 16]byte
}

const (
	bufTypeVideoCapture = 1
	vidiocGFmt          = 0xc0d05604 // _IOWR('V', 4, struct v4l2_format)
	vidiocGParm         = 0xc0cc5615 // _IOWR('V', 21, struct v4l2_streamparm)
)

// captureFormat says which pixel format, size and frame rate the capture
// queue of dev is set to, e.g. "YUYV 640x360 @ 30 fps".
func captureFormat(dev string) (string, error) {
	f := v4l2Format{Type: bufTypeVideoCapture}
	if err := ioctl(dev, vidiocGFmt, unsafe.Pointer(&f)); err != nil {
		return "", fmt.Errorf("get format of %s: %w", dev, err)
	}
	p := v4l2Streamparm{Type: bufTypeVideoCapture}
	if err := ioctl(dev, vidiocGParm, unsafe.Pointer(&p)); err != nil {
		return "", fmt.Errorf("get frame rate of %s: %w", dev, err)
	}
	pf := f.Pix.PixelFormat
	fourcc := string([]byte{byte(pf), byte(pf >> 8), byte(pf >> 16), byte(pf >> 24)})
	rate := "unknown"
	if n, d := p.TimePerFrame[0], p.TimePerFrame[1]; n > 0 {
		rate = strconv.FormatFloat(float64(d)/float64(n), 'g', 4, 64)
	}
	return fmt.Sprintf("%s %dx%d @ %s fps", fourcc, f.Pix.Width, f.Pix.Height, rate), nil
}

// v4l2Queryctrl is struct v4l2_queryctrl.
type v4l2Queryctrl struct {
	ID, Type                uint32
	Name                    [32]byte
	Min, Max, Step, Default int32
	Flags                   uint32
	_                       [2]uint32
}

const (
	vidiocQueryctrl  = 0xc0445624 // _IOWR('V', 36, struct v4l2_queryctrl)
	ctrlFlagNextCtrl = 0x80000000
	ctrlFlagDisabled = 0x0001
)

// control is one V4L2 control as VIDIOC_QUERYCTRL describes it.
type control struct {
	id   uint32
	kind string
	name string
}

var ctrlTypes = map[uint32]string{1: "int", 2: "bool", 3: "menu", 4: "button", 5: "int64", 6: "class", 7: "string", 8: "bitmask", 9: "intmenu"}

// controls lists dev's enabled controls, in the driver's order.
func controls(dev string) ([]control, error) {
	var out []control
	q := v4l2Queryctrl{ID: ctrlFlagNextCtrl}
	for {
		err := ioctl(dev, vidiocQueryctrl, unsafe.Pointer(&q))
		if errors.Is(err, unix.EINVAL) && len(out) > 0 {
			return out, nil // past the last control
		}
		if err != nil {
			return out, fmt.Errorf("list controls of %s: %w", dev, err)
		}
		if q.Flags&ctrlFlagDisabled == 0 && ctrlTypes[q.Type] != "class" {
			name, _, _ := strings.Cut(string(q.Name[:]), "\x00")
			kind := ctrlTypes[q.Type]
			if kind == "" {
				kind = "type" + strconv.Itoa(int(q.Type))
			}
			out = append(out, control{id: q.ID, kind: kind, name: name})
		}
		q = v4l2Queryctrl{ID: q.ID | ctrlFlagNextCtrl}
	}
}

// controlID resolves a control given by number or by name.
func controlID(dev, arg string) (uint32, error) {
	if id, err := strconv.ParseUint(arg, 0, 32); err == nil {
		return uint32(id), nil
	}
	cs, err := controls(dev)
	if err != nil {
		return 0, fmt.Errorf("find control %q: %w", arg, err)
	}
	for _, c := range cs {
		if strings.EqualFold(c.name, arg) {
			return c.id, nil
		}
	}
	return 0, fmt.Errorf("no control named %q on %s", arg, dev)
}

func setControl(dev, idArg, valueArg string) error {
	v, err := strconv.ParseInt(valueArg, 0, 32)
	if err != nil {
		return fmt.Errorf("control value %q: %w", valueArg, err)
	}
	id, err := controlID(dev, idArg)
	if err != nil {
		return err
	}
	c := v4l2Control{ID: uint32(id), Value: int32(v)}
	if err := ioctl(dev, vidiocSCtrl, unsafe.Pointer(&c)); err != nil {
		return fmt.Errorf("set control %#x on %s: %w", id, dev, err)
	}
	return nil
}
