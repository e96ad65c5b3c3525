package capture

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// loadModes reads a camera's modes from testdata/cameras (see its README).
func loadModes(t *testing.T, name string) []CameraMode {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cameras", name))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Modes []struct {
			CameraMode
			Size string `json:"size"`
		} `json:"modes"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []CameraMode
	for _, m := range f.Modes {
		if _, err := fmt.Sscanf(m.Size, "%dx%d", &m.Width, &m.Height); err != nil {
			t.Fatalf("%s: size %q: %v", name, m.Size, err)
		}
		out = append(out, m.CameraMode)
	}
	return out
}

func TestPickMode(t *testing.T) {
	tests := []struct {
		camera  string
		req     ModeRequest
		noMJPEG bool
		want    string // ModeChoice.String(), or the error
	}{
		// The webcam: raw where it reaches the rate, MJPEG beyond.
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 640, Height: 480, FPS: 30}, want: "YUYV 640x480@30 (asked 640x480@30)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 30}, want: "MJPEG 1280x720@30 (asked 1280x720@30)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 1920, Height: 1080, FPS: 30}, want: "MJPEG 1920x1080@30 (asked 1920x1080@30)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 10}, want: "YUYV 1280x720@10 (asked 1280x720@10)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 800, Height: 600, FPS: 24}, want: "YUYV 800x600@24 (asked 800x600@24)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 640, Height: 480, FPS: 12}, want: "YUYV 640x480@15 (asked 640x480@12)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 640, Height: 480, FPS: 29.97}, want: "YUYV 640x480@30 (asked 640x480@29.97)"},
		// Sizes the camera lacks: the nearest.
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 1280, Height: 800, FPS: 30}, want: "MJPEG 1280x720@30 (asked 1280x800@30)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 320, Height: 240, FPS: 30}, want: "YUYV 640x480@30 (asked 320x240@30)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 3840, Height: 2160, FPS: 30}, want: "MJPEG 1920x1080@30 (asked 3840x2160@30)"},
		// A rate nothing reaches: the fastest, and the choice says so.
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 60}, want: "MJPEG 1280x720@30 (asked 1280x720@60)"},
		// --camera-format overrides.
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 30, Format: "yuyv"}, want: "YUYV 640x480@30 (asked 1280x720@30)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 640, Height: 480, FPS: 30, Format: "mjpg"}, want: "MJPEG 640x480@30 (asked 640x480@30)"},
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 640, Height: 480, FPS: 30, Format: "NV12"}, want: "no usable camera mode: the camera has no NV12 mode (it offers H264, MJPEG, YUYV)"},
		// A build without the MJPEG decoder uses raw only.
		{camera: "uvc-webcam.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 30}, noMJPEG: true, want: "YUYV 640x480@30 (asked 1280x720@30)"},
		// vivid: raw only, the cheapest raw format first.
		{camera: "vivid.json", req: ModeRequest{Width: 640, Height: 360, FPS: 30}, want: "I420 640x360@30 (asked 640x360@30)"},
		{camera: "vivid.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 30}, want: "I420 640x360@30 (asked 1280x720@30)"},
		{camera: "vivid.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 10}, want: "I420 1280x720@10 (asked 1280x720@10)"},
		{camera: "vivid.json", req: ModeRequest{Width: 640, Height: 480, FPS: 25}, want: "YUYV 640x480@25 (asked 640x480@25)"},
		{camera: "vivid.json", req: ModeRequest{Width: 640, Height: 480, FPS: 25, Format: "MJPEG"}, want: "no usable camera mode: the camera has no MJPEG mode (it offers I420, NV12, YUYV)"},
		// Ranges: the asked rate itself.
		{camera: "stepwise.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 25}, want: "NV12 1280x720@25 (asked 1280x720@25)"},
		{camera: "stepwise.json", req: ModeRequest{Width: 1280, Height: 720, FPS: 90}, want: "NV12 1280x720@60 (asked 1280x720@90)"},
		{camera: "stepwise.json", req: ModeRequest{Width: 640, Height: 480, FPS: 30, Format: "RGB3"}, want: "no usable camera mode: the camera has no RGB3 mode (it offers NV12, RGB3)"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%+v/mjpeg=%v", tt.camera, tt.req, !tt.noMJPEG), func(t *testing.T) {
			got, err := PickMode(loadModes(t, tt.camera), tt.req, !tt.noMJPEG)
			s := got.String()
			if err != nil {
				if !errors.Is(err, ErrNoMode) {
					t.Fatalf("error %v does not wrap ErrNoMode", err)
				}
				s = err.Error()
			}
			if s != tt.want {
				t.Fatalf("got  %s\nwant %s", s, tt.want)
			}
		})
	}
}

func TestPickModeNothingUsable(t *testing.T) {
	for _, tt := range []struct {
		modes   []CameraMode
		mjpegOK bool
		want    string
	}{
		{nil, true, "no usable camera mode: the camera offers nothing, none of which p2pcam reads"},
		{[]CameraMode{{Format: "H264", Width: 640, Height: 480}}, true, "no usable camera mode: the camera offers H264, none of which p2pcam reads"},
		{[]CameraMode{{Format: "MJPEG", Width: 640, Height: 480}}, false, "no usable camera mode: the camera offers only MJPEG, and this build cannot decode MJPEG"},
	} {
		_, err := PickMode(tt.modes, ModeRequest{Width: 640, Height: 480, FPS: 30}, tt.mjpegOK)
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
}
