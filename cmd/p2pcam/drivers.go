package main

// Camera drivers register themselves with mediadevices when imported: V4L2
// on Linux, AVFoundation on macOS (both need cgo). This is the only place
// that pulls them in, so packages below stay testable without a camera.
import (
	_ "github.com/pion/mediadevices/pkg/driver/camera"
)
