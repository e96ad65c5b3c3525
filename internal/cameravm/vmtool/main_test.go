//go:build linux

package main

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut string
		wantErr string
	}{
		{"ivf summary", []string{"ivf", "../../../testdata/testsrc-64x48-5f.ivf"}, 0, "fourcc=VP80 size=64x48 timebase=1/10 header_length=5 frames=5 keyframes=2", ""},
		{"ivf missing file", []string{"ivf", "../../../testdata/nope.ivf"}, 1, "", "vmtool: open ../../../testdata/nope.ivf"},
		{"ivf not an ivf", []string{"ivf", "main.go"}, 1, "frames=0", "vmtool: not an ivf file"},
		{"ctrl by name on a non-V4L2 file", []string{"ctrl", "/dev/null", "Disconnect", "0"}, 1, "", `vmtool: find control "Disconnect": list controls of /dev/null`},
		{"ctrls on a non-V4L2 file", []string{"ctrls", "/dev/null"}, 1, "", "vmtool: list controls of /dev/null"},
		{"ctrl bad value", []string{"ctrl", "/dev/null", "0x00f0f041", "x"}, 1, "", `vmtool: control value "x"`},
		{"ctrl on a non-V4L2 file", []string{"ctrl", "/dev/null", "0x00f0f041", "0"}, 1, "", "vmtool: set control 0xf0f041 on /dev/null"},
		{"fmt on a non-V4L2 file", []string{"fmt", "/dev/null"}, 1, "", "vmtool: get format of /dev/null"},
		{"no args", nil, 2, "", "usage:"},
		{"unknown command", []string{"play", "x"}, 2, "", "usage:"},
		{"wrong arg count", []string{"ctrl", "/dev/video0"}, 2, "", "usage:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errw bytes.Buffer
			code := run(tc.args, &out, &errw)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errw.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout %q, want it to contain %q", out.String(), tc.wantOut)
			}
			if !strings.Contains(errw.String(), tc.wantErr) || (tc.wantErr == "") != (errw.Len() == 0) {
				t.Errorf("stderr %q, want %q", errw.String(), tc.wantErr)
			}
		})
	}
}

// The structs must match linux/videodev2.h on 64-bit, or the ioctl numbers
// (which encode the size) name other structs.
func TestStructSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"v4l2_control", unsafe.Sizeof(v4l2Control{}), 8},
		{"v4l2_format", unsafe.Sizeof(v4l2Format{}), 208},
		{"v4l2_streamparm", unsafe.Sizeof(v4l2Streamparm{}), 204},
		{"v4l2_queryctrl", unsafe.Sizeof(v4l2Queryctrl{}), 68},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d bytes, want %d", tc.name, tc.got, tc.want)
		}
	}
}
