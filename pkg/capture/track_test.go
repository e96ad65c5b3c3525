//go:build cgo

package capture

import (
	"errors"
	"image"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"

	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// TestTrackStopsWhenTheSourceFails: a camera that goes away mid-stream
// ends the track with its error instead of leaving it silent.
func TestTrackStopsWhenTheSourceFails(t *testing.T) {
	unplugged := errors.New("no such device")
	img := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	n := 0
	src := video.ReaderFunc(func() (image.Image, func(), error) {
		n++
		if n > 3 {
			return nil, func() {}, unplugged
		}
		return img, func() {}, nil
	})
	tr, err := newTrack(src, func() error { return nil }, vp8.Descriptor, vp8.NewParams(), prop.Media{Video: prop.Video{Width: 64, Height: 48, FrameRate: 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tr.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the track did not stop after its source failed")
	}
	if !errors.Is(tr.Err(), unplugged) {
		t.Fatalf("Err() = %v; want the source's error", tr.Err())
	}
	if tr.FramesSent() != 3 {
		t.Fatalf("FramesSent() = %d; want 3", tr.FramesSent())
	}
	if err := tr.Start(); err == nil {
		t.Fatal("a second Start succeeded")
	}
}
