package capture

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

var (
	// ErrCameraGone means the camera went away while in use (unplugged,
	// or its driver gave it up).
	ErrCameraGone = errors.New("camera went away")
	// ErrCameraStalled means the camera delivered no usable frame for
	// StallTimeout.
	ErrCameraStalled = errors.New("camera delivers no frames")
)

// Holder is a process that has a device open.
type Holder struct {
	PID  int
	Name string // its command name, from /proc/PID/comm
}

// CameraBusyError means another program is using the camera.
type CameraBusyError struct {
	Device  string   // e.g. /dev/video0
	Holders []Holder // who has it open, when /proc says (may be empty)
}

func (e *CameraBusyError) Error() string {
	if len(e.Holders) == 0 {
		return fmt.Sprintf("camera %s is busy: another program is using it", e.Device)
	}
	var names []string
	for _, h := range e.Holders {
		names = append(names, fmt.Sprintf("%s (pid %d)", h.Name, h.PID))
	}
	return fmt.Sprintf("camera %s is busy: %s is using it", e.Device, strings.Join(names, ", "))
}

// CameraPermissionError means this user may not open the camera.
type CameraPermissionError struct {
	Device string
	Group  string // the group that owns the device node, if known (usually video)
}

func (e *CameraPermissionError) Error() string {
	if e.Group != "" {
		return fmt.Sprintf("camera %s: permission denied (the device belongs to group %s)", e.Device, e.Group)
	}
	return fmt.Sprintf("camera %s: permission denied", e.Device)
}

// cameraError turns what the system said while opening or reading the
// camera at dev into one of this package's errors; others are wrapped
// with the device's name. procRoot is /proc (tests pass a fake one).
func cameraError(err error, dev, procRoot string, groupOf func(string) string) error {
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	errors.As(err, &errno)
	msg := err.Error()
	// blackjack/webcam flattens some errno values into strings.
	has := func(e syscall.Errno) bool { return errno == e || strings.Contains(msg, e.Error()) }
	switch {
	case has(syscall.EBUSY):
		return &CameraBusyError{Device: dev, Holders: holders(procRoot, dev, os.Getpid())}
	case has(syscall.EACCES), has(syscall.EPERM):
		return &CameraPermissionError{Device: dev, Group: groupOf(dev)}
	case has(syscall.ENODEV), has(syscall.ENXIO), has(syscall.EIO):
		return fmt.Errorf("%w: %s: %v", ErrCameraGone, dev, err)
	case has(syscall.ENOENT):
		return fmt.Errorf("%w: %s does not exist", ErrNoCamera, dev)
	}
	return fmt.Errorf("camera %s: %w", dev, err)
}

// holders lists the processes other than self with dev open, from
// procRoot/PID/fd links (only the processes this user may look into).
func holders(procRoot, dev string, self int) []Holder {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var out []Holder
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		fds, err := os.ReadDir(filepath.Join(procRoot, e.Name(), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(procRoot, e.Name(), "fd", fd.Name())); err == nil && target == dev {
				comm, _ := os.ReadFile(filepath.Join(procRoot, e.Name(), "comm"))
				name := strings.TrimSpace(string(comm))
				if name == "" {
					name = "process"
				}
				out = append(out, Holder{PID: pid, Name: name})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// deviceGroup names the group owning path, or "".
func deviceGroup(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return groupName(int(st.Gid), "/etc/group")
}

// groupName looks gid up in an /etc/group style file; the number when it
// is not there.
func groupName(gid int, file string) string {
	b, err := os.ReadFile(file)
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 3 && f[2] == strconv.Itoa(gid) {
				return f[0]
			}
		}
	}
	return strconv.Itoa(gid)
}
