package testpulse

import (
	"slices"
	"testing"
)

// TestOnsets: a beep's onset is where the level first rises after the
// quiet; its own cycles, and a noise under the level, are not onsets.
func TestOnsets(t *testing.T) {
	s := make([]int16, 1000)
	for _, at := range []int{100, 600} {
		for i := at; i < at+50; i++ {
			s[i] = int16(((i%2)*2 - 1) * 16000) // a loud square wave
		}
	}
	s[400] = 1000 // under the level
	if got, want := onsets(s, 0.1, 200), []int{100, 600}; !slices.Equal(got, want) {
		t.Errorf("onsets %v; want %v", got, want)
	}
	if got, want := onsets(s, 0.1, 500), []int{100}; !slices.Equal(got, want) {
		t.Errorf("with 500 samples of quiet needed: onsets %v; want %v", got, want)
	}
}
