//go:build cgo && !nosdl

package view

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/xvfb"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/pcm"
)

// envRequirePulse makes the sound tests fail, not skip, without
// PulseAudio (CI sets it).
const envRequirePulse = "P2PCAM_REQUIRE_PULSE"

// startPulse starts a private PulseAudio whose default sink is a null
// sink, "spk" (48 kHz mono), and points this test's environment (and
// SDL) at it; it ends with the test.
func startPulse(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pulseaudio", "pactl", "parecord"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not found: install pulseaudio and pulseaudio-utils to hear the window's sound"
			if os.Getenv(envRequirePulse) == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	dir, err := os.MkdirTemp("", "pulse")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, sub := range []string{"home", "xdg"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "native")
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "xdg"))
	t.Setenv("PULSE_SERVER", "unix:"+sock)
	unsetenv(t, "SDL_AUDIODRIVER")
	cmd := exec.Command("pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
		"--log-target=stderr", "--log-level=error",
		"-L", "module-native-protocol-unix auth-anonymous=1 socket="+sock,
		"-L", "module-null-sink sink_name=spk rate=48000 channels=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("pactl", "set-default-sink", "spk").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the private PulseAudio did not answer in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unsetenv unsets name for the test.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restored after the test
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

// monitor records the speaker's null sink from now on: its samples, and
// the wall time of each.
type monitor struct {
	cmd *exec.Cmd

	mu      sync.Mutex
	samples []int16
	// offset is the earliest wall time a chunk's end could stand for,
	// minus the samples before it: sample n is heard at about offset +
	// n/48000 s.
	offset time.Time
	done   chan struct{}
}

func record(t *testing.T) *monitor {
	t.Helper()
	m := &monitor{done: make(chan struct{})}
	m.cmd = exec.Command("parecord", "--device=spk.monitor", "--raw", "--format=s16le", "--rate=48000",
		"--channels=1", "--latency-msec=10")
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(m.done)
		r := bufio.NewReaderSize(out, 4096)
		buf := make([]byte, 960)
		for {
			n, err := io.ReadFull(r, buf)
			now := time.Now()
			m.mu.Lock()
			for i := 0; i+1 < n; i += 2 {
				m.samples = append(m.samples, int16(binary.LittleEndian.Uint16(buf[i:])))
			}
			at := now.Add(-time.Duration(len(m.samples)) * time.Second / 48000)
			if m.offset.IsZero() || at.Before(m.offset) {
				m.offset = at
			}
			m.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(m.stop)
	return m
}

func (m *monitor) stop() {
	_ = m.cmd.Process.Kill()
	<-m.done
	_ = m.cmd.Wait()
}

// snapshot returns the samples so far and the wall time of the first.
func (m *monitor) snapshot() ([]int16, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.samples), m.offset
}

// toneBlock is the length of the blocks the tone is looked for in.
const toneBlock = 240 // 5 ms

// tone returns the 1 kHz level (Goertzel, RMS of the tone's amplitude) of
// each 5 ms block of s.
func tone(s []int16) []float64 {
	k := 2 * math.Cos(2*math.Pi*pcm.BeepFreq/48000)
	var out []float64
	for b := 0; b+toneBlock <= len(s); b += toneBlock {
		var s1, s2 float64
		for _, v := range s[b : b+toneBlock] {
			s0 := float64(v) + k*s1 - s2
			s2, s1 = s1, s0
		}
		p := s1*s1 + s2*s2 - k*s1*s2
		out = append(out, 2*math.Sqrt(p)/toneBlock)
	}
	return out
}

// beep is one beep heard: when it began, and how long it held the tone.
type beep struct {
	onset  time.Time
	sample int
	length time.Duration
	gaps   int // 5 ms blocks without the tone inside it
	hole   int // the longest run of those
}

// beeps finds the beeps in s (samples from first): runs of the 1 kHz
// tone after silence, from the first block with the tone to the last
// one within 150 ms.
func beeps(s []int16, first time.Time) []beep {
	const on = 2000 // the beep is 16383 at full level
	lv := tone(s)
	var out []beep
	for i := 0; i < len(lv); i++ {
		if lv[i] < on {
			continue
		}
		b := beep{sample: i * toneBlock}
		last := i
		for j := i; j < len(lv) && j < i+30; j++ {
			if lv[j] >= on {
				last = j
			}
		}
		run := 0
		for j := i; j <= last; j++ {
			run++
			if lv[j] >= on {
				run = 0
				continue
			}
			b.gaps++
			b.hole = max(b.hole, run)
		}
		// The onset to the sample: the first loud one in the block
		// before or this one.
		from := max(0, (i-1)*toneBlock)
		for k := from; k < (i+1)*toneBlock; k++ {
			if v := s[k]; v > 1000 || v < -1000 {
				b.sample = k
				break
			}
		}
		b.onset = first.Add(time.Duration(b.sample) * time.Second / 48000)
		b.length = time.Duration(last+1-i) * 5 * time.Millisecond
		out = append(out, b)
		i = last + 40 // 200 ms of quiet at least before the next
	}
	return out
}

// sendBeep encodes pkg/pcm's beep into Opus packets in real time, as a
// microphone would (each packet when its last sample is "captured"), and
// hands them to w.Audio until ctx ends, leaving out the packets lose
// says; sent gets the instant each whole second's beep began.
func sendBeep(ctx context.Context, t *testing.T, w *Window, lose func(n int, at time.Time) bool) <-chan error {
	errc := make(chan error, 1)
	params := opus.NewParams()
	params.PacketLoss = 10 // in-band FEC, as with a lossy link's reports
	enc, err := opus.NewEncoder(params)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer enc.Close()
		start := time.Now()
		src := pcm.NewBeep(start)
		frame := make([]int16, opus.FrameSamples)
		ts := uint32(12345)
		for n := 0; ; n++ {
			due := src.Time(int64(n+1) * opus.FrameSamples)
			select {
			case <-ctx.Done():
				errc <- nil
				return
			case <-time.After(time.Until(due)):
			}
			if _, err := src.Read(frame); err != nil {
				errc <- err
				return
			}
			pkt, err := enc.Encode(frame)
			if err != nil {
				errc <- err
				return
			}
			if lose == nil || !lose(n, src.Time(int64(n)*opus.FrameSamples)) {
				w.Audio(opus.Descriptor, pkt, ts)
			}
			ts += opus.FrameSamples
		}
	}()
	return errc
}

// soundWindow starts a private sound server and a screen, and opens a
// window titled title on them, closed when the test ends; ctx bounds the
// test to a minute.
func soundWindow(t *testing.T, title string) (*xvfb.Display, *Window, context.Context) {
	t.Helper()
	startPulse(t)
	d, s := onScreen(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	win, err := s.Open(Options{Title: title})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { win.Close() })
	return d, win.(*Window), ctx
}

// TestSpeakerPlaysTheBeep: the call's sound comes out of the speaker (a
// PulseAudio null sink, recorded from its monitor): the beep sent once a
// second is heard once a second; a beep with a packet lost in its middle
// is heard, about as long, and the loss is counted rebuilt or
// concealed; the window's figures say how deep the jitter buffer is, and
// the test logs mouth to ear (the beep's instant to the monitor's
// sample).
func TestSpeakerPlaysTheBeep(t *testing.T) {
	_, w, ctx := soundWindow(t, "sound")
	mon := record(t)

	// The beep of the fourth whole second from now loses the packet
	// 40–60 ms into it.
	var lostSecond int64
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	errc := sendBeep(sendCtx, t, w, func(n int, at time.Time) bool {
		if lostSecond == 0 {
			lostSecond = at.Unix() + 4 // past the device's opening
		}
		into := at.Sub(at.Truncate(time.Second))
		return at.Unix() == lostSecond && into >= 40*time.Millisecond && into < 60*time.Millisecond
	})
	var heard []beep
	var first time.Time
	for len(heard) < 7 {
		if ctx.Err() != nil {
			t.Fatalf("heard %d beeps in time; want 7", len(heard))
		}
		time.Sleep(100 * time.Millisecond)
		var samples []int16
		samples, first = mon.snapshot()
		heard = beeps(samples, first)
		if len(heard) > 0 && heard[len(heard)-1].sample+int(48000*0.15) > len(samples) {
			heard = heard[:len(heard)-1] // not yet whole
		}
	}
	stopSending()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	figs, ok := w.Sound()
	if !ok {
		t.Fatal("no sound figures after playing")
	}
	t.Logf("speaker: %+v; the beep of second %d lost a packet", figs, lostSecond)

	var delays, spacings []time.Duration
	lostHeard := false
	for i, b := range heard {
		sec := b.onset.Truncate(time.Second) // heard well within its second
		delay := b.onset.Sub(sec)
		if i > 0 {
			delays = append(delays, delay)
		}
		t.Logf("beep %d: second %d, heard %d ms after it, %v long, %d silent 5 ms blocks in it", i, sec.Unix(), delay.Milliseconds(), b.length, b.gaps)
		if i > 0 {
			spacings = append(spacings, b.onset.Sub(heard[i-1].onset))
		}
		if sec.Unix() != lostSecond {
			continue
		}
		// Heard, and about as long as sent. Its sound itself (no hole,
		// nothing shifted) is judged by TestConcealment: here a device
		// stalling on a busy machine leaves holes of its own, and the
		// buffer then catches up by leaving a packet out.
		if b.length < 75*time.Millisecond {
			t.Errorf("the beep that lost a packet is %v long; want about 100 ms", b.length)
		}
		lostHeard = true
	}
	slices.Sort(spacings)
	if m := spacings[len(spacings)/2]; m < 990*time.Millisecond || m > 1010*time.Millisecond {
		t.Errorf("beeps heard %v apart (median); want a second", m)
	}
	if !lostHeard {
		t.Errorf("the beep of second %d, which lost a packet, was not heard", lostSecond)
	}
	if figs.Concealed+figs.Recovered == 0 {
		t.Error("the speaker counted no lost packet rebuilt or concealed; one was lost")
	}
	slices.Sort(delays)
	t.Logf("mouth to ear (the beep's instant to the monitor, a 20 ms packet's framing included; the first beep, heard as the device opened, left out): p50 %d ms, max %d ms over %d beeps; jitter buffer target %v, delay (buffer and device queue) at the end %v",
		delays[len(delays)/2].Milliseconds(), delays[len(delays)-1].Milliseconds(), len(delays), figs.Target, figs.Delay)
}

// waitTitle waits until the window's title is want.
func waitTitle(t *testing.T, ctx context.Context, d *xvfb.Display, id, want string) {
	t.Helper()
	for {
		got, err := d.UTF8Title(ctx, id)
		if err == nil && got == want {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("title %q (%v); want %q", got, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMute: m mutes the sound (the speaker's monitor goes silent while
// the beep goes on being sent, and the title says muted) and m again
// brings it back.
func TestMute(t *testing.T) {
	d, w, ctx := soundWindow(t, "mute test")
	for i, f := range oneKeyFrame(t) {
		w.Frame(f, i == 0) // the window shows, to take keys
	}
	id := waitWindow(t, ctx, d, "^mute test")
	mon := record(t)
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	errc := sendBeep(sendCtx, t, w, nil)

	// heardSince waits until n beeps have been heard past sample from,
	// or until the samples reach until (when not 0); it returns the beeps
	// and the samples' end.
	heardSince := func(from, until, n int) ([]beep, int) {
		for {
			if ctx.Err() != nil {
				t.Fatalf("timed out listening (%d beeps wanted)", n)
			}
			time.Sleep(100 * time.Millisecond)
			samples, first := mon.snapshot()
			if from > len(samples) {
				continue
			}
			bs := beeps(samples[from:], first)
			if (until > 0 && len(samples) >= until) || (until == 0 && len(bs) >= n) {
				return bs, len(samples)
			}
		}
	}
	_, end := heardSince(0, 0, 1)
	press(t, ctx, d, id, "m", w)
	waitTitle(t, ctx, d, id, "mute test · muted")
	// From 200 ms after the key on (what was queued plays out), 2.5 s
	// of silence: two beeps would have come.
	from := end + 48000/5
	bs, end := heardSince(from, from+48000*5/2, 0)
	if len(bs) > 0 {
		t.Errorf("heard %d beeps while muted", len(bs))
	}
	press(t, ctx, d, id, "m", w)
	waitTitle(t, ctx, d, id, "mute test")
	heardSince(end, 0, 1)
	stopSending()
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestNoSoundOutput: without a sound server the window still works,
// silently: the sound is dropped, Notice is told once that there is no
// sound output, the title says so, and no library prints on the
// terminal.
func TestNoSoundOutput(t *testing.T) {
	d, s := onScreen(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	t.Setenv("PULSE_SERVER", "unix:"+filepath.Join(dir, "nothing-here"))
	t.Setenv("HOME", dir)
	t.Setenv("XDG_RUNTIME_DIR", dir)
	unsetenv(t, "SDL_AUDIODRIVER")
	stderr := captureStderr(t)

	notices := make(chan string, 10)
	win, err := s.Open(Options{Title: "silent", Notice: func(msg string) { notices <- msg }})
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	w := win.(*Window)
	for i, f := range oneKeyFrame(t) {
		w.Frame(f, i == 0)
	}
	id := waitWindow(t, ctx, d, "^silent")
	sendCtx, stopSending := context.WithCancel(ctx)
	errc := sendBeep(sendCtx, t, w, nil)
	var msg string
	select {
	case msg = <-notices:
	case <-ctx.Done():
		t.Fatal("no notice that there is no sound output")
	}
	waitTitle(t, ctx, d, id, "silent · no sound")
	// A second of sound more, dropped, and no second notice.
	time.Sleep(time.Second)
	stopSending()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg, "no sound output") {
		t.Errorf("notice %q; want it to begin with %q", msg, "no sound output")
	}
	select {
	case m := <-notices:
		t.Errorf("a second notice %q; want one", m)
	default:
	}
	if f, ok := w.Sound(); ok && !f.Silent {
		t.Errorf("figures %+v; want Silent", f)
	}
	if out := stderr(); out != "" {
		t.Errorf("the terminal got %q; want nothing", out)
	}
	t.Logf("notice: %s", msg)
}

// captureStderr sends what this process writes to file descriptor 2
// (the C libraries' messages too) to a pipe until the returned function
// is called, which gives what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(w.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	var once sync.Once
	var out string
	restore := func() string {
		once.Do(func() {
			_ = syscall.Dup2(saved, 2)
			_ = syscall.Close(saved)
			w.Close()
			out = <-got
			r.Close()
		})
		return out
	}
	t.Cleanup(func() { restore() })
	return restore
}

// TestPictureWaitsForTheSound: with sound playing, a picture is drawn
// as late as the sound is heard after arriving (the jitter buffer and
// the device's queue), never more than maxLipSync late; without sound
// it is drawn as decoded (TestWindowShowsWhatArrives).
func TestPictureWaitsForTheSound(t *testing.T) {
	d, w, ctx := soundWindow(t, "lip sync")
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	errc := sendBeep(sendCtx, t, w, nil)
	var mu sync.Mutex
	fed := map[uint16]time.Time{}
	feedLive(t, w, 320, 240, func(seq int) {
		mu.Lock()
		fed[uint16(seq)] = time.Now()
		mu.Unlock()
	})
	id := waitWindow(t, ctx, d, "^lip sync")
	geo, err := d.Geometry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Once the sound plays, the age of the picture on the screen.
	for w.sp.lipSync() == 0 {
		if ctx.Err() != nil {
			t.Fatal("the sound never played")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var ages, waits []time.Duration
	for len(ages) < 30 {
		if ctx.Err() != nil {
			t.Fatalf("read %d stamps from the screen in time; want 30", len(ages))
		}
		st, at, ok, err := d.ScreenStamp(geo)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		mu.Lock()
		decoded, known := fed[st.Seq]
		mu.Unlock()
		if known {
			ages = append(ages, at.Sub(decoded))
			waits = append(waits, w.sp.lipSync())
		}
		time.Sleep(15 * time.Millisecond)
	}
	stopSending()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	slices.Sort(ages)
	slices.Sort(waits)
	p50, wait := ages[len(ages)/2], waits[len(waits)/2]
	t.Logf("picture age on screen p50 %d ms, p95 %d ms; the sound's delay (what the picture waits) p50 %d ms",
		p50.Milliseconds(), ages[len(ages)*95/100].Milliseconds(), wait.Milliseconds())
	// Loose: a picture is read off the screen up to a frame and a read
	// after it is drawn.
	if p50 < wait-10*time.Millisecond || p50 > maxLipSync+100*time.Millisecond {
		t.Errorf("pictures are on screen %v after decoding (median); want about the sound's delay, %v, and at most %v", p50, wait, maxLipSync)
	}
}

// TestPictureWaitsBySendersClock: with frames given their RTP timestamps
// (FrameAt) but no sender reports, pictures wait by arrival (the figures
// say lip sync is not synced); once both streams' reports map their
// clocks to the sender's, the window syncs by them: a picture captured
// now waits for the sound captured now, which is still in the jitter
// buffer, so each waits (the offset is positive: about the sound's
// delay).
func TestPictureWaitsBySendersClock(t *testing.T) {
	_, w, ctx := soundWindow(t, "sender's clock")
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	// The sound's sender report says when a packet was sent, as pion's
	// does: a busy machine sends the beep late, and its packets are
	// then timed by their sending.
	var (
		mu     sync.Mutex
		sentAt time.Time
		sentTS uint32
	)
	errc := sendBeep(sendCtx, t, w, func(n int, _ time.Time) bool {
		mu.Lock()
		sentAt, sentTS = time.Now(), 12345+uint32(n)*opus.FrameSamples
		mu.Unlock()
		return false
	})
	start := time.Now()
	const videoBase = 777
	videoTS := func(at time.Time) uint32 { return videoBase + uint32(at.Sub(start)*90000/time.Second) }
	feedCtx, stopFeeding := context.WithCancel(ctx)
	fed := make(chan error, 1)
	go func() {
		fed <- live(feedCtx, 320, 240, func(_ int, data []byte, key bool) { w.FrameAt(data, key, videoTS(time.Now())) })
	}()
	defer func() {
		stopFeeding()
		if err := <-fed; err != nil {
			t.Error(err)
		}
	}()
	// Sound plays, by arrival.
	for w.sp.lipSync() == 0 {
		if ctx.Err() != nil {
			t.Fatal("the sound never played")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if f, _ := w.Sound(); f.Synced {
		t.Fatalf("synced by the sender's clock before any sender report: %+v", f)
	}
	mu.Lock()
	w.SenderReport(codec.Audio, sentAt, sentTS, 48000)
	mu.Unlock()
	w.SenderReport(codec.Video, start, videoBase, 90000)
	var f SoundFigures
	for deadline := time.Now().Add(10 * time.Second); !f.Synced && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		f, _ = w.Sound()
	}
	w.sp.mu.Lock()
	offset, known := w.sp.ls.offset, w.sp.ls.known
	w.sp.mu.Unlock()
	stopSending()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	t.Logf("by the sender's clock: the last picture came %v before its sound, skew %v; the sound's delay %v", offset, f.Skew, f.Delay)
	if !f.Synced || !known {
		t.Fatalf("not synced by the sender's clock once both reports came: %+v", f)
	}
	// Loose: the sound heard was captured a little while ago (the
	// jitter buffer, the device's queue; more when this machine is too
	// busy to send the beep in time), never after the picture of now,
	// nor seconds before (clocks mixed up).
	if offset <= 0 || offset > time.Second {
		t.Errorf("a picture captured now came %v before the sound captured now; want about the sound's delay, %v", offset, f.Delay)
	}
}
