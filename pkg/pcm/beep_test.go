package pcm

import (
	"errors"
	"io"
	"math"
	"testing"
	"testing/synctest"
	"time"
)

// window is a half-open range of sample numbers.
type window struct{ from, to int }

func TestBeepTimingIsExactInSamples(t *testing.T) {
	const sec = 1_700_000_000
	tests := []struct {
		name  string
		start time.Time
		late  time.Duration // Late's
		beeps []window      // every beep in the first 3 s of samples
	}{
		{"start on a whole second", time.Unix(sec, 0), 0, []window{{0, 4800}, {48000, 52800}, {96000, 100800}}},
		{"start a quarter second in", time.Unix(sec, 250_000_000), 0, []window{{36000, 40800}, {84000, 88800}, {132000, 136800}}},
		// 10 µs before a second: sample 1 (20.83 µs) is the first in
		// the beep, sample 4800 (99.99 ms into the second) the last.
		{"start 10 µs before a second", time.Unix(sec, 999_990_000), 0, []window{{1, 4801}, {48001, 52801}, {96001, 100801}}},
		// Inside a beep: the rest of it plays.
		{"start 50 ms into a beep", time.Unix(sec, 50_000_000), 0, []window{{0, 2400}, {45600, 50400}, {93600, 98400}, {141600, 144000}}},
		{"start before 1970", time.Unix(-1, 500_000_000), 0, []window{{24000, 28800}, {72000, 76800}, {120000, 124800}}},
		// Late moves the beeps, the sine's phase with them.
		{"300 ms late", time.Unix(sec, 0), 300 * time.Millisecond, []window{{14400, 19200}, {62400, 67200}, {110400, 115200}}},
		{"300 ms late, start a quarter second in", time.Unix(sec, 250_000_000), 300 * time.Millisecond, []window{{2400, 7200}, {50400, 55200}, {98400, 103200}}},
		{"950 ms late", time.Unix(sec, 0), 950 * time.Millisecond, []window{{0, 2400}, {45600, 50400}, {93600, 98400}, {141600, 144000}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBeep(tc.start)
			b.Late(tc.late)
			buf := make([]int16, 3*SampleRate)
			if n, err := b.Read(buf); n != len(buf) || err != nil {
				t.Fatalf("Read = %d, %v", n, err)
			}
			in := func(n int) bool {
				for _, w := range tc.beeps {
					if n >= w.from && n < w.to {
						return true
					}
				}
				return false
			}
			for n, v := range buf {
				if v != 0 && !in(n) {
					t.Fatalf("sample %d = %d outside every beep", n, v)
				}
			}
			for _, w := range tc.beeps {
				// Inside, only the sine's zero crossings (every 24th
				// sample on the grid) are 0; the edges are sound.
				var zeros int
				for _, v := range buf[w.from:w.to] {
					if v == 0 {
						zeros++
					}
				}
				if zeros > (w.to-w.from)/24+1 {
					t.Errorf("beep %v has %d silent samples", w, zeros)
				}
				if buf[w.to-1] == 0 && buf[w.to-2] == 0 {
					t.Errorf("beep %v ends early", w)
				}
			}
		})
	}
}

func TestBeepIsAToneAtLevelFromPhaseZero(t *testing.T) {
	b := NewBeep(time.Unix(1_700_000_000, 0))
	buf := make([]int16, 4800)
	b.Read(buf)
	for i, v := range buf {
		want := BeepLevel * 32767 * math.Sin(2*math.Pi*BeepFreq*float64(i)/SampleRate)
		if math.Abs(float64(v)-want) > 0.5 {
			t.Fatalf("sample %d = %d, want %.1f", i, v, want)
		}
	}
}

func TestBeepDoesNotDependOnChunking(t *testing.T) {
	start := time.Unix(1_700_000_000, 123_456_789)
	whole := make([]int16, 2*SampleRate)
	NewBeep(start).Read(whole)
	b := NewBeep(start)
	var pieces []int16
	for len(pieces) < len(whole) {
		buf := make([]int16, min(7+len(pieces)%113, len(whole)-len(pieces)))
		b.Read(buf)
		pieces = append(pieces, buf...)
	}
	for i := range whole {
		if whole[i] != pieces[i] {
			t.Fatalf("sample %d: %d read whole, %d in pieces", i, whole[i], pieces[i])
		}
	}
}

func TestBeepTimeFollowsTheSampleCount(t *testing.T) {
	start := time.Unix(1_700_000_000, 7)
	b := NewBeep(start)
	for _, tc := range []struct {
		n    int64
		want time.Duration
	}{{0, 0}, {1, 20833}, {3, 62500}, {48000, time.Second}, {48000 * 3600, time.Hour}} {
		if got := b.Time(tc.n).Sub(start); got != tc.want {
			t.Errorf("Time(%d) = start+%v, want start+%v", tc.n, got, tc.want)
		}
	}
	if !b.Start().Equal(start) {
		t.Errorf("Start() = %v", b.Start())
	}
}

// TestPacedReaderHandsOutChunksOnTime: chunk k at k·20 ms, or, like a
// microphone, at (k+1)·20 ms, its last sample's time; either way it
// stands for k·20 ms, as Captured says.
func TestPacedReaderHandsOutChunksOnTime(t *testing.T) {
	for _, mic := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			testPacedReader(t, mic)
		})
	}
}

func testPacedReader(t *testing.T, mic bool) {
	r := NewReader(NewBeep(time.Now()), "beep", true)
	if mic {
		r.LikeMicrophone()
	}
	defer r.Close()
	t0 := time.Now()
	if !r.Captured().IsZero() {
		t.Fatalf("Captured before the first Read = %v; want zero", r.Captured())
	}
	for k := range 50 {
		a, release, err := r.Read()
		if err != nil {
			t.Fatalf("Read %d: %v", k, err)
		}
		release()
		want := time.Duration(k) * 20 * time.Millisecond
		if mic {
			want += 20 * time.Millisecond
		}
		if got := time.Since(t0); got != want {
			t.Fatalf("mic %v: chunk %d at %v, want %v", mic, k, got, want)
		}
		if got, want := r.Captured().Sub(t0), time.Duration(k)*20*time.Millisecond; got != want {
			t.Fatalf("mic %v: chunk %d captured at %v, want %v", mic, k, got, want)
		}
		if info := a.ChunkInfo(); info.Len != ChunkSamples || info.Channels != 1 || info.SamplingRate != SampleRate {
			t.Fatalf("chunk %d info %+v", k, info)
		}
	}
}

func TestCloseWakesAPacedRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewReader(NewBeep(time.Now()), "beep", true)
		if _, _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			_, _, err := r.Read()
			errc <- err
		}()
		synctest.Wait() // the Read waits for its chunk's time
		r.Close()
		r.Close() // idempotent
		if err := <-errc; !errors.Is(err, io.EOF) {
			t.Errorf("Read after Close: %v, want io.EOF", err)
		}
		if _, _, err := r.Read(); !errors.Is(err, io.EOF) {
			t.Errorf("second Read after Close: %v, want io.EOF", err)
		}
	})
}

// shortSource ends after n samples.
type shortSource struct{ n int }

func (s *shortSource) Read(buf []int16) (int, error) {
	k := min(len(buf), s.n)
	s.n -= k
	if k < len(buf) {
		return k, io.EOF
	}
	return k, nil
}

func TestReaderPassesOnTheEndOfASource(t *testing.T) {
	r := NewReader(&shortSource{n: ChunkSamples + 100}, "short", false)
	if r.ID() != "short" {
		t.Errorf("ID() = %q", r.ID())
	}
	var lens []int
	for {
		a, _, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lens = append(lens, a.ChunkInfo().Len)
	}
	if len(lens) != 2 || lens[0] != ChunkSamples || lens[1] != 100 {
		t.Errorf("chunk lengths %v, want [%d 100]", lens, ChunkSamples)
	}
}

// TestPacedBeepStartsAtTheFirstRead: a paced Reader hands a Beep's first
// chunk out at its first Read, so the Beep's samples stand for the
// instants they are handed out from there, however long before the Beep
// was made (else every beep would be late by that time, sound behind
// picture); an unpaced Reader leaves the Beep's start alone.
func TestPacedBeepStartsAtTheFirstRead(t *testing.T) {
	made := time.Now().Add(-300 * time.Millisecond)
	for _, pace := range []bool{true, false} {
		b := NewBeep(made)
		r := NewReader(b, "test", pace)
		before := time.Now()
		if _, _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		got := b.Start()
		if pace && (got.Before(before) || got.After(after)) {
			t.Errorf("paced: the beep's first sample stands for %v; want the first Read, between %v and %v", got, before, after)
		}
		if !pace && !got.Equal(made) {
			t.Errorf("unpaced: the beep's first sample stands for %v; want %v, as made", got, made)
		}
		_ = r.Close()
	}
}
