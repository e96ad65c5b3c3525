//go:build !linux && cgo

package main

// Camera drivers register themselves with mediadevices when imported:
// AVFoundation on macOS (it needs cgo: a build without cgo has no camera,
// as it has no codec). This is the only place that pulls
// them in, so packages below stay testable without a camera. Linux needs
// none: p2pcam reads V4L2 itself (pkg/capture), and mediadevices' V4L2
// driver would open every /dev/video* at start-up.
import (
	_ "github.com/pion/mediadevices/pkg/driver/camera"
)
