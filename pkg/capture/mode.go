package capture

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// CameraMode is one way a camera can deliver pictures: a pixel format at a
// size, with the frame rates it offers there.
type CameraMode struct {
	Format        string    `json:"format"` // I420, NV12, NV21, YUYV, UYVY, MJPEG, or what the camera calls others
	Width, Height int       `json:"-"`
	Rates         []float64 `json:"rates"` // frames per second, ascending; empty: the camera does not say
	// Stepwise means any rate from Rates[0] to Rates[len-1] works.
	Stepwise bool `json:"stepwise,omitempty"`
}

// ModeRequest is what the caller asked the camera for.
type ModeRequest struct {
	Width, Height int
	FPS           float64
	// Format, when set, is the only pixel format to consider.
	Format string
}

// ModeChoice is the mode picked for a request.
type ModeChoice struct {
	Format        string
	Width, Height int
	FPS           float64
	Asked         ModeRequest
}

// String formats the choice as "MJPEG 1280x720@30 (asked 1280x720@30)".
func (c ModeChoice) String() string {
	return fmt.Sprintf("%s %dx%d@%s (asked %dx%d@%s)", c.Format, c.Width, c.Height, fps(c.FPS),
		c.Asked.Width, c.Asked.Height, fps(c.Asked.FPS))
}

func fps(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// formatCost ranks the pixel formats p2pcam reads by the work a frame
// takes before the encoder has it: I420 is the encoder's own layout, NV12
// and NV21 interleave the chroma, YUYV and UYVY also halve it, MJPEG must
// be decoded.
var formatCost = map[string]int{"I420": 0, "NV12": 1, "NV21": 1, "YUYV": 2, "UYVY": 2, "MJPEG": 3}

// ErrNoMode means the camera offers no mode p2pcam can use (or none in the
// format asked for).
var ErrNoMode = errors.New("no usable camera mode")

// maxRate is the highest rate m offers; 0 when it does not say.
func (m CameraMode) maxRate() float64 {
	if len(m.Rates) == 0 {
		return 0
	}
	return slices.Max(m.Rates)
}

// rateFor is the rate to set on m for want: the lowest offered rate that
// reaches want (want itself when m is stepwise and spans it), else m's
// highest; want when m offers no rates.
func (m CameraMode) rateFor(want float64) float64 {
	if len(m.Rates) == 0 {
		return want
	}
	lo, hi := slices.Min(m.Rates), slices.Max(m.Rates)
	if m.Stepwise && want >= lo && want <= hi {
		return want
	}
	best := 0.0
	for _, r := range m.Rates {
		if reaches(r, want) && (best == 0 || r < best) {
			best = r
		}
	}
	if best == 0 {
		return hi
	}
	return best
}

// reaches reports whether rate r gives want frames per second (29.97 for 30 does).
func reaches(r, want float64) bool { return r >= want*0.99 }

// PickMode picks the camera mode for req: among the modes whose format
// p2pcam reads (only req.Format's when set, and without MJPEG when
// mjpegOK is false), those that reach the asked rate; of them the size
// nearest the asked one, then the format with the least work per frame
// (raw before MJPEG). When no mode reaches the rate, the fastest modes
// are taken the same way, so the choice says how far short it falls.
// A mode whose camera names no rates is taken as reaching it.
func PickMode(modes []CameraMode, req ModeRequest, mjpegOK bool) (ModeChoice, error) {
	want := strings.ToUpper(req.Format)
	if want == "MJPG" || want == "JPEG" {
		want = "MJPEG"
	}
	var usable []CameraMode
	offered := map[string]bool{}
	for _, m := range modes {
		offered[m.Format] = true
		if _, ok := formatCost[m.Format]; !ok || (m.Format == "MJPEG" && !mjpegOK) {
			continue
		}
		if want != "" && m.Format != want {
			continue
		}
		usable = append(usable, m)
	}
	if len(usable) == 0 {
		names := slices.Sorted(func(yield func(string) bool) {
			for f := range offered {
				if !yield(f) {
					return
				}
			}
		})
		list := strings.Join(names, ", ")
		if list == "" {
			list = "nothing"
		}
		switch {
		case want != "":
			return ModeChoice{}, fmt.Errorf("%w: the camera has no %s mode (it offers %s)", ErrNoMode, want, list)
		case offered["MJPEG"] && !mjpegOK:
			return ModeChoice{}, fmt.Errorf("%w: the camera offers only %s, and this build cannot decode MJPEG", ErrNoMode, list)
		}
		return ModeChoice{}, fmt.Errorf("%w: the camera offers %s, none of which p2pcam reads", ErrNoMode, list)
	}
	fast := slices.ContainsFunc(usable, func(m CameraMode) bool { return m.maxRate() == 0 || reaches(m.maxRate(), req.FPS) })
	if !fast {
		top := 0.0
		for _, m := range usable {
			top = max(top, m.maxRate())
		}
		usable = slices.DeleteFunc(usable, func(m CameraMode) bool { return m.maxRate() < top })
	} else {
		usable = slices.DeleteFunc(usable, func(m CameraMode) bool { return m.maxRate() != 0 && !reaches(m.maxRate(), req.FPS) })
	}
	best := slices.MinFunc(usable, func(a, b CameraMode) int {
		return cmp.Or(
			cmp.Compare(sizeDistance(a, req), sizeDistance(b, req)),
			// Of two sizes as near, the larger: scaling down loses less.
			-cmp.Compare(a.Width*a.Height, b.Width*b.Height),
			cmp.Compare(formatCost[a.Format], formatCost[b.Format]),
			cmp.Compare(a.Format, b.Format),
		)
	})
	return ModeChoice{Format: best.Format, Width: best.Width, Height: best.Height, FPS: best.rateFor(req.FPS), Asked: req}, nil
}

// sizeDistance is how far m's size is from the asked one, as the larger
// of the two sides' ratios (1 = exact).
func sizeDistance(m CameraMode, req ModeRequest) float64 {
	ratio := func(a, b int) float64 {
		if a <= 0 || b <= 0 {
			return math.Inf(1)
		}
		r := float64(a) / float64(b)
		return max(r, 1/r)
	}
	return math.Round(max(ratio(m.Width, req.Width), ratio(m.Height, req.Height))*1000) / 1000
}
