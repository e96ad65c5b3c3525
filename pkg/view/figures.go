package view

import (
	"fmt"
	"time"
)

// figures are what the overlay shows: the picture's size, and the
// pictures and bits per second that reached the window over the last
// second.
type figures struct {
	Width, Height int
	FPS           float64
	Bitrate       float64 // bits/s of the frames decoded
}

// overlayText is the overlay's lines (short, for a small window), e.g.
// "1280x720 30 fps\n2.41 Mbit/s\nRTT 12 ms, 0 lost\nsound 60 ms buffered,
// 2 FEC, 0 concealed\nlip sync in step"; call is nil until the session
// has given its figures, sound until the first audio packet.
func overlayText(f figures, call *CallFigures, sound *SoundFigures) string {
	if f.Width == 0 {
		return "waiting for a picture"
	}
	s := fmt.Sprintf("%dx%d %.0f fps\n%.2f Mbit/s", f.Width, f.Height, f.FPS, f.Bitrate/1e6)
	if call != nil {
		s += fmt.Sprintf("\nRTT %d ms, %d lost", call.RTT.Milliseconds(), call.PacketsLost)
	}
	if sound != nil {
		s += "\n" + soundText(*sound)
	}
	return s
}

// soundText is the overlay's lines of the sound: the jitter buffer's
// depth, the lost packets rebuilt (FEC) and made up (concealed), whether
// it is muted, and how far the picture is from its sound.
func soundText(f SoundFigures) string {
	if f.Silent {
		return "no sound output"
	}
	s := "sound"
	if f.Muted {
		s += " muted,"
	}
	s += fmt.Sprintf(" %d ms buffered, %d FEC, %d concealed", f.Buffered.Milliseconds(), f.Recovered, f.Concealed)
	ms := f.Skew.Milliseconds()
	switch {
	case !f.Synced:
		s += "\nlip sync by arrival"
	case ms > 0:
		s += fmt.Sprintf("\npicture %d ms after its sound", ms)
	case ms < 0:
		s += fmt.Sprintf("\npicture %d ms before its sound", -ms)
	default:
		s += "\nlip sync in step"
	}
	return s
}

// meter counts the frames decoded and their bytes, and gives new figures
// once a second.
type meter struct {
	start   time.Time
	frames  int
	bytes   int
	current figures
}

// add counts one frame of n bytes decoded at now into a width×height
// picture; changed says the figures were renewed (once a second, or
// when the size changes).
func (m *meter) add(now time.Time, n, width, height int) (figures, bool) {
	changed := false
	if m.start.IsZero() {
		m.start = now
		m.current = figures{Width: width, Height: height}
		changed = true
	}
	if width != m.current.Width || height != m.current.Height {
		m.current.Width, m.current.Height = width, height
		changed = true
	}
	m.frames++
	m.bytes += n
	if el := now.Sub(m.start); el >= time.Second {
		m.current.FPS = float64(m.frames) / el.Seconds()
		m.current.Bitrate = float64(m.bytes*8) / el.Seconds()
		m.start, m.frames, m.bytes = now, 0, 0
		changed = true
	}
	return m.current, changed
}
