//go:build !linux

package capture

import "github.com/pion/mediadevices/pkg/driver"

// CameraNames returns the names of the cameras the registered drivers
// find, as --source camera:NAME takes them, without opening the cameras
// (Devices opens each one to read its formats): quick enough for shell
// completion, and harmless to a camera in use. No camera gives nil.
func CameraNames() []string {
	var out []string
	for _, d := range driver.GetManager().Query(driver.FilterVideoRecorder()) {
		if d.Info().DeviceType == driver.Camera {
			out = append(out, Device{ID: d.ID(), Label: d.Info().Label}.Name())
		}
	}
	return out
}
