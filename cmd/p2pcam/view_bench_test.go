package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testpulse"
	"github.com/p2pcam/p2pcam/internal/xvfb"
	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// viewBench are the figures of --view at one picture size.
type viewBench struct {
	size               string
	first              time.Duration // first picture on screen after connecting
	behind50, behind95 float64       // the window behind the decoder, ms, without sound
	shots              int           // screen reads behind those
	// The same with sound playing: each picture waits for its sound.
	soundBehind50, soundBehind95 float64
	syncs                        []time.Duration // sound minus picture, per second
	mouthEar                     []time.Duration // --view, sorted
	pageEar                      []time.Duration // Chromium on the --serve page, sorted
	cpuView, cpuFile             float64         // the receiving side's CPU, % of one core
	loads                        []string        // /proc/loadavg as each call started
}

// TestViewFigures measures --view for `make bench-view`, at 640x480 and
// 1280x720, and logs one table:
//   - first picture: from "connected" to the first stamp of the pattern
//     read off the (virtual) screen;
//   - the window behind the decoder: screen reads at random moments
//     (shot time minus the stamp's capture time) against what --measure
//     says of the decoded frames in the same call, p50 and p95, in a
//     call without sound (with sound, each picture waits for its sound,
//     as the lip sync call shows);
//   - mouth to ear: beeps played into the sending side's microphone,
//     heard at the receiving side's speaker, both channels of one null
//     sink in one private PulseAudio (one recording, one clock);
//   - lip sync: with the test beep, which starts at each whole second of
//     the clock that stamps the pattern, the beep's arrival at the
//     speaker minus when the picture of that second reached the screen;
//   - CPU of the receiving side, --view against -o file.webm;
//   - the peer to beat: Chromium on the --serve page of the same sender,
//     unmuted, mouth to ear measured the same way.
//
// Run with P2PCAM_VIEW_FIGURES=1 (P2PCAM_VIEW_SECONDS sets the length of
// the screen-reading calls, default 20; P2PCAM_VIEW_SIZES the sizes, e.g.
// 640x480; P2PCAM_VIEW_PARTS the calls, of screen,sync,ear,file,page).
func TestViewFigures(t *testing.T) {
	if os.Getenv("P2PCAM_VIEW_FIGURES") == "" {
		t.Skip("a benchmark: set P2PCAM_VIEW_FIGURES=1 to run it")
	}
	secs := 20
	if s := os.Getenv("P2PCAM_VIEW_SECONDS"); s != "" {
		fmt.Sscan(s, &secs)
	}
	sizes := []string{"640x480", "1280x720"}
	if s := os.Getenv("P2PCAM_VIEW_SIZES"); s != "" {
		sizes = strings.Split(s, ",")
	}
	parts := "screen,sync,ear,file,page"
	if s := os.Getenv("P2PCAM_VIEW_PARTS"); s != "" {
		parts = s
	}
	part := func(name string) bool { return slices.Contains(strings.Split(parts, ","), name) }
	pulse := testpulse.StartProbe(t)
	var all []*viewBench
	for _, size := range sizes {
		b := &viewBench{size: size}
		all = append(all, b)
		t.Run(size, func(t *testing.T) {
			w, h, _ := strings.Cut(size, "x")
			sender := []string{"--source", "test", "--width", w, "--height", h}
			if size == "1280x720" {
				sender = append(sender, "--bitrate", "2.5M")
			}
			if part("screen") {
				benchScreen(t, pulse, b, sender, secs, false)
			}
			if part("sync") {
				benchScreen(t, pulse, b, sender, secs, true)
			}
			if part("ear") {
				benchMouthToEar(t, pulse, b, sender)
			}
			if part("file") {
				benchFileCPU(t, b, sender)
			}
			if part("page") {
				benchPage(t, pulse, b, sender)
			}
		})
	}
	logViewTable(t, all)
}

// screenShot is one read of the pattern's stamp off the screen.
type screenShot struct {
	at time.Time
	s  pattern.Stamp
}

// captured is the stamp's capture time, on this machine's clock (the
// stamp holds milliseconds modulo 2^32), near at.
func (sh screenShot) captured() time.Time { return sh.at.Add(-stampLag(sh.at, sh.s)) }

// benchScreen is a call watched through the screen: without sound, the
// first picture and the window behind the decoder; with the test beep
// (sound), the window behind the decoder as pictures wait for their
// sound, and lip sync.
func benchScreen(t *testing.T, pulse *testpulse.Server, b *viewBench, sender []string, secs int, sound bool) {
	d := xvfb.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+90)*time.Second)
	defer cancel()
	b.loads = append(b.loads, loadavg())
	ear := pulse.Listen(t, ctx)
	stats := filepath.Join(t.TempDir(), "stats.jsonl")
	audio := "none"
	if sound {
		audio = "test"
	}
	offer, answer := call(t, ctx, callSpec{
		offerArgs: append(append([]string{"offer", "--audio", audio}, sender...), loopback...),
		answerArgs: append([]string{"answer", "--view", "-o", filepath.Join(t.TempDir(), "m.ivf"), "--measure",
			"--stats", stats}, loopback...),
		answerIn: onDisplay(d),
		// A person takes a second or more to paste the answer back.
		beforePasteBack: func(_, _ *proc, _ string) { time.Sleep(1500 * time.Millisecond) },
	})
	connected := waitConnectedAt(ctx, answer)
	f := watch(t, ctx, d, connected, 1)
	if !sound {
		b.first = f.first
	}
	var shots []screenShot
	start := time.Now()
	for end := start.Add(time.Duration(secs) * time.Second); time.Now().Before(end); {
		s, at, ok, err := d.ScreenStamp(f.window)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			shots = append(shots, screenShot{at, s})
		}
		// At times unrelated to the frames, often enough to see each
		// picture shortly after it is drawn.
		time.Sleep(time.Duration(4+rand.IntN(8)) * time.Millisecond)
	}
	if err := d.CloseWindow(ctx, f.windowID); err != nil {
		t.Fatal(err)
	}
	waitOK(ctx, answer, offer)
	_, spk := ear.Onsets(0.1, 500*time.Millisecond)
	cancel()
	lags := make([]time.Duration, len(shots))
	for i, sh := range shots {
		lags[i] = stampLag(sh.at, sh.s)
	}
	slices.Sort(lags)
	final := readStats(t, stats)
	last := final[len(final)-1]
	behind50 := float64(pct(lags, 50).Milliseconds()) - last.P50
	behind95 := float64(pct(lags, 95).Milliseconds()) - last.P95
	t.Logf("sound %v: screen p50/p95 %d/%d ms, decoder p50/p95 %.0f/%.0f ms, %d reads", sound, pct(lags, 50).Milliseconds(),
		pct(lags, 95).Milliseconds(), last.P50, last.P95, len(lags))
	if !sound {
		b.shots, b.behind50, b.behind95 = len(lags), behind50, behind95
		return
	}
	b.soundBehind50, b.soundBehind95 = behind50, behind95
	// Lip sync, for each whole second S from the third on: when the
	// picture of S reached the screen (the first read of a picture
	// captured in the 100 ms from S, moved earlier by how long after S
	// it was captured), and when the beep of S reached the speaker.
	for s := start.Truncate(time.Second).Add(3 * time.Second); s.Before(start.Add(time.Duration(secs-1) * time.Second)); s = s.Add(time.Second) {
		var seen time.Time
		for _, sh := range shots {
			c := sh.captured()
			if c.Before(s) || c.Sub(s) >= 100*time.Millisecond {
				continue
			}
			if at := sh.at.Add(-c.Sub(s)); seen.IsZero() || at.Before(seen) {
				seen = at
			}
		}
		i := slices.IndexFunc(spk, func(a time.Time) bool { return !a.Before(s) && a.Sub(s) < 700*time.Millisecond })
		if seen.IsZero() || i < 0 {
			t.Logf("second %s: picture seen %v, beep heard %v", s.Format("15:04:05"), !seen.IsZero(), i >= 0)
			continue
		}
		b.syncs = append(b.syncs, spk[i].Sub(seen))
	}
	t.Logf("lip sync (sound minus picture) per second: %v", b.syncs)
}

// benchMouthToEar is a call whose sending side hears beeps in its
// microphone and whose receiving side plays them with --view: mouth to
// ear, and the receiving side's CPU.
func benchMouthToEar(t *testing.T, pulse *testpulse.Server, b *viewBench, sender []string) {
	d := xvfb.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b.loads = append(b.loads, loadavg())
	ear := pulse.Listen(t, ctx)
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append(append([]string{"offer", "--audio", "default"}, sender...), loopback...),
		answerArgs: append([]string{"answer", "--view", "-v"}, loopback...),
		answerIn:   onDisplay(d),
	})
	connected := waitConnectedAt(ctx, answer)
	f := watch(t, ctx, d, connected, 1)
	time.Sleep(2 * time.Second)
	cpu0, t0 := cpuTime(t, answer), time.Now()
	pulse.Play(t, ctx, testpulse.BeepsWAV(t, 10))()
	time.Sleep(time.Second)
	b.cpuView = 100 * float64(cpuTime(t, answer)-cpu0) / float64(time.Since(t0))
	if err := d.CloseWindow(ctx, f.windowID); err != nil {
		t.Fatal(err)
	}
	waitOK(ctx, answer, offer)
	if b.mouthEar = mouthToEar(t, ear); len(b.mouthEar) == 0 {
		t.Logf("the receiving side said:\n%s", answer.errText())
	}
}

// mouthToEar pairs each beep into the microphone with the first heard at
// the speaker within 800 ms after it.
func mouthToEar(t *testing.T, ear *testpulse.Listener) []time.Duration {
	t.Helper()
	mic, spk := ear.Onsets(0.1, 500*time.Millisecond)
	var out []time.Duration
	for _, m := range mic {
		if i := slices.IndexFunc(spk, func(a time.Time) bool { return a.After(m) && a.Sub(m) < 800*time.Millisecond }); i >= 0 {
			out = append(out, spk[i].Sub(m))
		}
	}
	slices.Sort(out)
	t.Logf("%d beeps into the microphone, %d heard: mouth to ear %v", len(mic), len(out), out)
	if len(out) == 0 {
		t.Errorf("no beep went from the microphone to the speaker (%d into the microphone, %d out of the speaker)", len(mic), len(spk))
	}
	return out
}

// benchFileCPU is the receiving side's CPU recording to a file, no
// window: the same sender, for ten seconds.
func benchFileCPU(t *testing.T, b *viewBench, sender []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b.loads = append(b.loads, loadavg())
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append(append([]string{"offer", "--audio", "test", "--duration", "14s"}, sender...), loopback...),
		answerArgs: append([]string{"answer", "-o", filepath.Join(t.TempDir(), "call.webm")}, loopback...),
	})
	waitConnectedAt(ctx, answer)
	time.Sleep(2 * time.Second)
	cpu0, t0 := cpuTime(t, answer), time.Now()
	time.Sleep(10 * time.Second)
	b.cpuFile = 100 * float64(cpuTime(t, answer)-cpu0) / float64(time.Since(t0))
	waitOK(ctx, offer, answer)
}

// benchPage is the peer to beat: the same sender with --serve, and
// Chromium on its page, unmuted as a person would, playing the beeps.
func benchPage(t *testing.T, pulse *testpulse.Server, b *viewBench, sender []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b.loads = append(b.loads, loadavg())
	ear := pulse.Listen(t, ctx)
	srv, page, _ := served(t, ctx, append([]string{"--audio", "default"}, sender[2:]...)...)
	c := openChromiumWith(t, ctx, page, audible)
	c.waitDecoded(ctx, 30)
	var muted bool
	if err := c.eval("document.getElementById('sound').click(), document.querySelector('video').muted", &muted); err != nil || muted {
		t.Fatalf("the page's unmute button: muted %v (%v)", muted, err)
	}
	time.Sleep(2 * time.Second)
	pulse.Play(t, ctx, testpulse.BeepsWAV(t, 10))()
	time.Sleep(time.Second)
	b.pageEar = mouthToEar(t, ear)
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	if code := srv.wait(ctx); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}

// logViewTable logs the figures of every size as one table.
func logViewTable(t *testing.T, all []*viewBench) {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	p5095 := func(s []time.Duration) string {
		if len(s) == 0 {
			return "-"
		}
		return ms(pct(s, 50)) + " / " + ms(pct(s, 95))
	}
	absSync := func(s []time.Duration) string {
		if len(s) == 0 {
			return "-"
		}
		abs := make([]time.Duration, len(s))
		signed := slices.Clone(s)
		for i, d := range s {
			abs[i] = d.Abs()
		}
		slices.Sort(abs)
		slices.Sort(signed)
		return fmt.Sprintf("%s / %s (median signed %+d, %d s)", ms(pct(abs, 50)), ms(abs[len(abs)-1]), pct(signed, 50).Milliseconds(), len(s))
	}
	rows := []struct {
		name string
		cell func(b *viewBench) string
	}{
		{"first picture after connecting, ms (goal ≤ 150)", func(b *viewBench) string { return ms(b.first) }},
		{"window behind the decoder p50 / p95, ms (goal p95 ≤ 10 at 720p)", func(b *viewBench) string {
			return fmt.Sprintf("%.0f / %.0f (%d reads)", b.behind50, b.behind95, b.shots)
		}},
		{"with sound: window behind the decoder p50 / p95, ms (pictures wait for their sound)", func(b *viewBench) string {
			return fmt.Sprintf("%.0f / %.0f", b.soundBehind50, b.soundBehind95)
		}},
		{"mouth to ear, --view, p50 / p95 ms (goal p50 ≤ 100)", func(b *viewBench) string { return p5095(b.mouthEar) }},
		{"mouth to ear, Chromium on the --serve page, p50 / p95 ms", func(b *viewBench) string { return p5095(b.pageEar) }},
		{"lip sync in the window, |sound − picture| p50 / max ms (goal ≤ 45)", func(b *viewBench) string { return absSync(b.syncs) }},
		{"receiving side CPU, --view, % of a core", func(b *viewBench) string { return fmt.Sprintf("%.0f", b.cpuView) }},
		{"receiving side CPU, -o file.webm, % of a core", func(b *viewBench) string { return fmt.Sprintf("%.0f", b.cpuFile) }},
		{"load average as each call started", func(b *viewBench) string { return strings.Join(b.loads, "; ") }},
	}
	head := "| figure |"
	sep := "|---|"
	for _, b := range all {
		head += " " + b.size + " |"
		sep += "---|"
	}
	t.Log(head)
	t.Log(sep)
	for _, r := range rows {
		line := "| " + r.name + " |"
		for _, b := range all {
			line += " " + r.cell(b) + " |"
		}
		t.Log(line)
	}
}
