package capture

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

// testdata/proc is a fake /proc: pid 1234 (cheese) and 42 (gst-launch-1.0)
// hold /dev/video0, pid 1300 (obs) holds /dev/video1.
func TestHolders(t *testing.T) {
	proc := filepath.Join("testdata", "proc")
	tests := []struct {
		dev  string
		self int
		want []Holder
	}{
		{"/dev/video0", 0, []Holder{{42, "gst-launch-1.0"}, {1234, "cheese"}}},
		{"/dev/video0", 42, []Holder{{1234, "cheese"}}}, // not ourselves
		{"/dev/video1", 0, []Holder{{1300, "obs"}}},
		{"/dev/video2", 0, nil},
	}
	for _, tt := range tests {
		if got := holders(proc, tt.dev, tt.self); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("holders(%s, self %d) = %v, want %v", tt.dev, tt.self, got, tt.want)
		}
	}
	if got := holders(filepath.Join("testdata", "no-such-proc"), "/dev/video0", 0); got != nil {
		t.Errorf("no /proc: %v", got)
	}
}

func TestCameraError(t *testing.T) {
	proc := filepath.Join("testdata", "proc")
	group := func(string) string { return "video" }
	tests := []struct {
		name   string
		err    error
		dev    string
		want   string
		target error
	}{
		{"busy, holder known", syscall.EBUSY, "/dev/video1", "camera /dev/video1 is busy: obs (pid 1300) is using it", nil},
		{"busy in a flattened message", errors.New("Failed to map request buffers: device or resource busy"), "/dev/video1",
			"camera /dev/video1 is busy: obs (pid 1300) is using it", nil},
		{"busy, nobody visible", syscall.EBUSY, "/dev/video3", "camera /dev/video3 is busy: another program is using it", nil},
		{"permission", syscall.EACCES, "/dev/video0", "camera /dev/video0: permission denied (the device belongs to group video)", nil},
		{"unplugged", fmt.Errorf("dqbuf: %w", syscall.ENODEV), "/dev/video0", "camera went away: /dev/video0: dqbuf: no such device", ErrCameraGone},
		{"missing", syscall.ENOENT, "/dev/video9", "no camera found: /dev/video9 does not exist", ErrNoCamera},
		{"other", syscall.EINVAL, "/dev/video0", "camera /dev/video0: invalid argument", syscall.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cameraError(tt.err, tt.dev, proc, group)
			if err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Fatalf("%v does not wrap %v", err, tt.target)
			}
		})
	}
	var busy *CameraBusyError
	if !errors.As(cameraError(syscall.EBUSY, "/dev/video0", proc, group), &busy) || len(busy.Holders) != 2 {
		t.Fatalf("busy error: %#v", busy)
	}
}

func TestGroupName(t *testing.T) {
	for gid, want := range map[int]string{44: "video", 0: "root", 99: "99"} {
		if got := groupName(gid, filepath.Join("testdata", "group")); got != want {
			t.Errorf("groupName(%d) = %q, want %q", gid, got, want)
		}
	}
}
