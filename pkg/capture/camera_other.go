//go:build !linux

package capture

import (
	"fmt"

	"github.com/pion/mediadevices"
	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// Outside Linux, cameras come through mediadevices' drivers
// (AVFoundation on macOS); the mode is what its constraints pick.

// openCameraReader opens a camera for Open.
func openCameraReader(id string, opts Options) (video.Reader, func() error, cameraInfo, int, int, error) {
	t, err := openCamera(id, opts)
	if err != nil {
		return nil, nil, nil, 0, 0, err
	}
	return t.NewReader(false), t.Close, nil, 0, 0, nil
}

func openCamera(id string, opts Options) (*mediadevices.VideoTrack, error) {
	devs := Devices()
	if len(devs) == 0 {
		return nil, ErrNoCamera
	}
	dev := devs[0]
	if id != "" {
		found := false
		for _, d := range devs {
			if d.Matches(id) {
				dev, found = d, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%w matching %q", ErrNoCamera, id)
		}
	}
	stream, err := mediadevices.GetUserMedia(mediadevices.MediaStreamConstraints{
		Video: func(c *mediadevices.MediaTrackConstraints) {
			c.DeviceID = prop.String(dev.ID)
			if opts.Width > 0 {
				c.Width = prop.Int(opts.Width)
			}
			if opts.Height > 0 {
				c.Height = prop.Int(opts.Height)
			}
			// Always ask for a rate: without one mediadevices may pick 1 fps.
			c.FrameRate = prop.Float(opts.FPS)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("open camera %s: %w", dev.Label, err)
	}
	for _, t := range stream.GetVideoTracks() {
		if vt, ok := t.(*mediadevices.VideoTrack); ok {
			return vt, nil
		}
		t.Close()
	}
	return nil, fmt.Errorf("open camera %s: no video track", dev.Label)
}

// Devices lists the cameras the registered drivers find, each opened
// briefly to read its formats.
func Devices() []Device {
	var out []Device
	for _, d := range driver.GetManager().Query(driver.FilterVideoRecorder()) {
		if d.Info().DeviceType != driver.Camera {
			continue
		}
		dev := Device{ID: d.ID(), Label: d.Info().Label}
		dev.StableName = dev.Name()
		if err := d.Open(); err != nil {
			dev.Err = err.Error()
		} else {
			for _, p := range d.Properties() {
				dev.Formats = append(dev.Formats, Format{
					PixelFormat: string(p.FrameFormat), Width: p.Width, Height: p.Height, FPS: p.FrameRate,
				})
			}
			_ = d.Close()
		}
		sortFormats(dev.Formats)
		out = append(out, dev)
	}
	return out
}
