package testpulse

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Listener records a StartProbe server's probe.monitor as it plays: the
// microphone's channel and the speaker's, with when each sample was
// played on this machine's clock.
type Listener struct {
	mu       sync.Mutex
	mic, spk []int16
	// zero is the estimate of when sample 0 was played: the earliest
	// over every read of (read time − samples so far ÷ rate).
	zero time.Time
	done chan struct{}
}

// Listen records probe.monitor until ctx ends or the test does.
func (s *Server) Listen(t *testing.T, ctx context.Context) *Listener {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, "parec", "--device=probe.monitor", "--raw", "--format=s16le", "--rate=48000",
		"--channels=2", "--latency-msec=5")
	cmd.Env = append(os.Environ(), s.Env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("parec: %v", err)
	}
	l := &Listener{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		r := bufio.NewReaderSize(out, 1920)
		buf := make([]byte, 960) // 5 ms of two channels
		for {
			n, err := io.ReadAtLeast(r, buf, 4)
			now := time.Now()
			n -= n % 4
			l.mu.Lock()
			for i := 0; i < n; i += 4 {
				l.mic = append(l.mic, int16(binary.LittleEndian.Uint16(buf[i:])))
				l.spk = append(l.spk, int16(binary.LittleEndian.Uint16(buf[i+2:])))
			}
			if n > 0 {
				z := now.Add(-time.Duration(len(l.mic)) * time.Second / 48000)
				if l.zero.IsZero() || z.Before(l.zero) {
					l.zero = z
				}
			}
			l.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-l.done
		_ = cmd.Wait()
	})
	return l
}

// Onsets returns when beeps began in the microphone's channel and in the
// speaker's, on this machine's clock: where the level rises over level
// (of full scale) after at least quiet of silence.
func (l *Listener) Onsets(level float64, quiet time.Duration) (mic, spk []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at := func(i int) time.Time { return l.zero.Add(time.Duration(i) * time.Second / 48000) }
	for _, ch := range []struct {
		s   []int16
		out *[]time.Time
	}{{l.mic, &mic}, {l.spk, &spk}} {
		for _, i := range onsets(ch.s, level, int(quiet.Seconds()*48000)) {
			*ch.out = append(*ch.out, at(i))
		}
	}
	return mic, spk
}

// onsets gives the sample indices where s rises over level (of full
// scale) after at least quiet samples under it.
func onsets(s []int16, level float64, quiet int) []int {
	th := int32(level * 32767)
	var out []int
	last := -quiet - 1 // the last loud sample
	for i, v := range s {
		a := int32(v)
		if a < 0 {
			a = -a
		}
		if a < th {
			continue
		}
		if i-last > quiet {
			out = append(out, i)
		}
		last = i
	}
	return out
}
