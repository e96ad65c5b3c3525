package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/debugserve"
)

// The hour-long soak (make soak-hour): p2pcam's memory and goroutines over
// a long run, sampled through each process's P2PCAM_DEBUG_ADDR endpoint
// every 30 s. Two runs side by side:
//
//   - serve: offer --serve at 640x480 with viewers joining and leaving
//     (one every 3 s, each staying 5 to 20 s, at most 8 at once; two in
//     three leave by DELETE, the rest by hanging up alone);
//   - call: a plain 640x480 call, offer to answer -o FILE.
//
// The serve run pauses its viewers twice, at the warm-up mark (minute 5
// of an hour) and at the end: once the last has left, it samples the idle
// server and saves a heap profile, so the two idle states compare
// goroutine for goroutine and byte for byte. The call saves its profiles
// at the same marks. The test prints each process's figures at the marks
// and their slope per hour, and the difference of the heap profiles
// (go tool pprof -diff_base), which says where any growth is. It asserts
// only that video flowed and that the idle server holds no more
// goroutines at the end than after the warm-up: the rest are figures.
//
// SOAK_MINUTES (default 60) sets the length, SOAK_RUNS ("serve,call")
// which runs, SOAK_OUT where the samples, profiles and summary go.

// soakSample is one reading of a process's /debug/mem.
type soakSample struct {
	At      float64 `json:"minute"`
	Idle    bool    `json:"idle,omitempty"` // the serve run's pause: no viewer
	Viewers int     `json:"viewers"`
	debugserve.Mem
}

// soakProc is one p2pcam process being sampled.
type soakProc struct {
	name    string
	p       *proc
	addr    string
	start   time.Time
	out     string
	mu      sync.Mutex
	samples []soakSample
	log     *os.File
}

var debugLine = regexp.MustCompile(`p2pcam: debug: http://(\S+)/debug/mem`)

// withDebug runs argv with the debug endpoint on a free loopback port.
func withDebug(argv []string) []string {
	return append([]string{"env", debugserve.Env + "=127.0.0.1:0"}, argv...)
}

func newSoakProc(t *testing.T, ctx context.Context, name string, p *proc, out string, start time.Time) *soakProc {
	t.Helper()
	p.waitFor(ctx, "/debug/mem")
	m := debugLine.FindStringSubmatch(p.errText())
	if m == nil {
		t.Fatalf("%s: no debug address in\n%s", name, p.errText())
	}
	f, err := os.Create(filepath.Join(out, name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &soakProc{name: name, p: p, addr: m[1], start: start, out: out, log: f}
}

// sample reads the process's figures now and keeps them.
func (s *soakProc) sample(idle bool, viewers int) (soakSample, error) {
	res, err := http.Get("http://" + s.addr + "/debug/mem")
	if err != nil {
		return soakSample{}, err
	}
	defer res.Body.Close()
	sm := soakSample{At: time.Since(s.start).Minutes(), Idle: idle, Viewers: viewers}
	if err := json.NewDecoder(res.Body).Decode(&sm.Mem); err != nil {
		return soakSample{}, err
	}
	s.mu.Lock()
	s.samples = append(s.samples, sm)
	s.mu.Unlock()
	b, _ := json.Marshal(sm)
	_, _ = s.log.Write(append(b, '\n'))
	return sm, nil
}

// profile saves the process's heap profile (after a collection, gc=1) or
// its goroutines (as text) under name.
func (s *soakProc) profile(kind, name string) (string, error) {
	u := "http://" + s.addr + "/debug/pprof/heap?gc=1"
	if kind == "goroutine" {
		u = "http://" + s.addr + "/debug/pprof/goroutine?debug=1"
	}
	res, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	path := filepath.Join(s.out, s.name+"-"+name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return path, err
}

// sampleEvery samples the processes every 30 s until ctx ends.
func sampleEvery(ctx context.Context, t *testing.T, viewers func() int, ps ...*soakProc) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for _, p := range ps {
				if _, err := p.sample(false, viewers()); err != nil {
					t.Logf("%s: sampling: %v", p.name, err)
				}
			}
		}
	}
}

// soakMarks are the minutes a report shows: the warm-up mark, a quarter,
// half and three quarters of the run, and its end (5, 15, 30, 45, 60 for
// an hour).
func soakMarks(total time.Duration) (warm time.Duration, marks []float64) {
	warm = 5 * time.Minute
	if total < 20*time.Minute {
		warm = total / 6
	}
	m := total.Minutes()
	return warm, []float64{warm.Minutes(), m / 4, m / 2, 3 * m / 4, m}
}

// report is the process's table: the regular sample nearest each mark,
// the idle samples, and each figure's slope per hour from the warm-up on
// (least squares over the regular samples).
func (s *soakProc) report(warm time.Duration, marks []float64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	// The anonymous memory is Go's (heap spans in use, idle spans not
	// yet returned, stacks, the runtime's own) and C's (glibc's malloc:
	// what libvpx and the rest hold, in its arenas or mapped on their
	// own, and the free bytes its arenas keep).
	fmt.Fprintf(&b, "\n%s (pid %d):\n| minute | RSS MB | anon RSS MB | Go heap in use MB | Go heap idle, not returned MB | heap live MB | C malloc in use MB | C malloc free, kept MB | goroutines | threads | GCs | viewers |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
		s.name, s.p.cmd.Process.Pid)
	mb := func(n float64) string { return strconv.FormatFloat(n/(1<<20), 'f', 1, 64) }
	row := func(label string, sm soakSample) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d | %d | %d | %d |\n", label,
			mb(float64(sm.RSS)), mb(float64(sm.RSSAnon)), mb(float64(sm.HeapInuse)), mb(float64(sm.HeapIdle-sm.HeapReleased)),
			mb(float64(sm.HeapAlloc)), mb(float64(sm.CInuse+sm.CMmapped)), mb(float64(sm.CFree)), sm.Goroutines, sm.Threads, sm.NumGC, sm.Viewers)
	}
	var regular []soakSample
	for _, sm := range s.samples {
		if sm.Idle {
			row(fmt.Sprintf("%.1f idle", sm.At), sm)
		} else {
			regular = append(regular, sm)
		}
	}
	for _, m := range marks {
		best := -1
		for i, sm := range regular {
			if best < 0 || math.Abs(sm.At-m) < math.Abs(regular[best].At-m) {
				best = i
			}
		}
		if best >= 0 {
			row(fmt.Sprintf("%.1f", regular[best].At), regular[best])
		}
	}
	var xs []float64
	figs := map[string][]float64{}
	for _, sm := range regular {
		if sm.At < warm.Minutes() {
			continue
		}
		xs = append(xs, sm.At/60)
		figs["RSS"] = append(figs["RSS"], float64(sm.RSS)/(1<<20))
		figs["anon"] = append(figs["anon"], float64(sm.RSSAnon)/(1<<20))
		figs["heap"] = append(figs["heap"], float64(sm.HeapInuse)/(1<<20))
		figs["cin"] = append(figs["cin"], float64(sm.CInuse+sm.CMmapped)/(1<<20))
		figs["cfree"] = append(figs["cfree"], float64(sm.CFree)/(1<<20))
		figs["goroutines"] = append(figs["goroutines"], float64(sm.Goroutines))
	}
	if len(xs) >= 3 {
		fmt.Fprintf(&b, "slope per hour from minute %.1f (%d samples): RSS %+.2f MB, anon %+.2f MB, Go heap in use %+.2f MB, C malloc in use %+.2f MB, C malloc free kept %+.2f MB, goroutines %+.1f\n",
			warm.Minutes(), len(xs), slope(xs, figs["RSS"]), slope(xs, figs["anon"]), slope(xs, figs["heap"]), slope(xs, figs["cin"]), slope(xs, figs["cfree"]), slope(xs, figs["goroutines"]))
	}
	return b.String()
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(xs))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// heapDiff is go tool pprof's difference of two heap profiles: the
// functions whose live memory (inuse_space) grew or shrank most.
func heapDiff(base, end string) string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=15", "-sample_index=inuse_space",
		"-diff_base", base, end).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("pprof: %v\n%s", err, out)
	}
	return string(out)
}

func TestSoakHour(t *testing.T) {
	if os.Getenv("P2PCAM_SOAK_HOUR") != "1" {
		t.Skip("an hour of sampling: make soak-hour (P2PCAM_SOAK_HOUR=1, SOAK_MINUTES=60)")
	}
	minutes := 60.0
	if v := os.Getenv("SOAK_MINUTES"); v != "" {
		var err error
		if minutes, err = strconv.ParseFloat(v, 64); err != nil || minutes < 1 {
			t.Fatalf("SOAK_MINUTES=%q: want a number of minutes, at least 1", v)
		}
	}
	total := time.Duration(minutes * float64(time.Minute))
	out := os.Getenv("SOAK_OUT")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	runs := os.Getenv("SOAK_RUNS")
	if runs == "" {
		runs = "serve,call"
	}
	for _, run := range strings.Split(runs, ",") {
		switch run {
		case "serve":
			t.Run("serve", func(t *testing.T) { t.Parallel(); soakServe(t, total, out) })
		case "call":
			t.Run("call", func(t *testing.T) { t.Parallel(); soakCall(t, total, out) })
		default:
			t.Fatalf("SOAK_RUNS: unknown run %q (serve, call)", run)
		}
	}
}

// soakSummary logs text and appends it to the summary file in out.
func soakSummary(t *testing.T, out, text string) {
	t.Log(text)
	f, err := os.OpenFile(filepath.Join(out, "summary.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	_, _ = f.WriteString(text + "\n")
}

// loadavg is the machine's load average over 1, 5 and 15 minutes, quoted
// beside every figure.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func soakServe(t *testing.T, total time.Duration, out string) {
	ctx, cancel := context.WithTimeout(context.Background(), total+10*time.Minute)
	defer cancel()
	start := time.Now()
	srv := startArgv(t, ctx, "serve", false, withDebug(append([]string{binPath, "offer", "--serve", "127.0.0.1:0",
		"--source", "test", "--width", "640", "--height", "480"}, loopback...)))
	var whep string
	for whep == "" {
		if u, ok := strings.CutPrefix(srv.blob(ctx), "whep: "); ok {
			whep = u
		}
	}
	sp := newSoakProc(t, ctx, "serve", srv, out, start)
	warm, marks := soakMarks(total)

	var active, joined, failed, frameless, delErrs atomic.Int64
	var firstErr atomic.Value
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go sampleEvery(sctx, t, func() int { return int(active.Load()) }, sp)

	// churn lets viewers come and go until the deadline, then waits for
	// the last to leave.
	rng := rand.New(rand.NewPCG(1, 2))
	churn := func(until time.Time) {
		var wg sync.WaitGroup
		tick := time.NewTicker(3 * time.Second)
		defer tick.Stop()
		for time.Now().Before(until) && ctx.Err() == nil {
			if active.Load() < 8 {
				stay := 5*time.Second + time.Duration(rng.Int64N(int64(15*time.Second)))
				del := rng.IntN(3) != 0
				active.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer active.Add(-1)
					v, err := joinViewer(ctx, whep)
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						return
					}
					joined.Add(1)
					select {
					case <-time.After(stay):
					case <-ctx.Done():
					}
					if v.frames.Load() == 0 {
						frameless.Add(1)
					}
					if err := v.leave(del); err != nil {
						delErrs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}()
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
		wg.Wait()
	}
	// idle waits for the server to notice the last viewer gone, then
	// samples it and saves its heap profile.
	idle := func(name string) (soakSample, string) {
		time.Sleep(20 * time.Second)
		http.DefaultClient.CloseIdleConnections()
		sm, err := sp.sample(true, 0)
		if err != nil {
			t.Fatalf("sampling the idle server: %v", err)
		}
		path, err := sp.profile("heap", name)
		if err != nil {
			t.Fatalf("heap profile: %v", err)
		}
		return sm, path
	}
	churn(start.Add(warm))
	idleWarm, heapWarm := idle("heap-warm.pb.gz")
	churn(start.Add(total))
	idleEnd, heapEnd := idle("heap-end.pb.gz")
	if _, err := sp.profile("goroutine", "goroutines-end.txt"); err != nil {
		t.Error(err)
	}
	stopSampling()
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	waitOK(ctx, srv)

	text := sp.report(warm, marks) + fmt.Sprintf(
		"viewers: %d joined, %d refused or failed to join, %d left with no frame, %d DELETEs failed; first error: %v\n"+
			"idle server: %d goroutines at minute %.1f, %d at minute %.1f; heap in use %.1f -> %.1f MB\n"+
			"load average at the end: %s\nheap growth, idle end vs idle warm-up (%s):\n%s",
		joined.Load(), failed.Load(), frameless.Load(), delErrs.Load(), firstErr.Load(),
		idleWarm.Goroutines, idleWarm.At, idleEnd.Goroutines, idleEnd.At,
		float64(idleWarm.HeapInuse)/(1<<20), float64(idleEnd.HeapInuse)/(1<<20),
		loadavg(), filepath.Base(heapEnd), heapDiff(heapWarm, heapEnd))
	soakSummary(t, out, text)
	if joined.Load() == 0 || frameless.Load() > joined.Load()/10 {
		t.Errorf("%d viewers joined, %d of them saw no frame", joined.Load(), frameless.Load())
	}
	// A few goroutines come and go with timers and idle connections; a
	// leak grows with the viewers that came (hundreds an hour).
	if idleEnd.Goroutines > idleWarm.Goroutines+10 {
		t.Errorf("the idle server holds %d goroutines at the end, %d after the warm-up: a leak (see %s)",
			idleEnd.Goroutines, idleWarm.Goroutines, filepath.Join(out, "serve-goroutines-end.txt"))
	}
}

func soakCall(t *testing.T, total time.Duration, out string) {
	ctx, cancel := context.WithTimeout(context.Background(), total+10*time.Minute)
	defer cancel()
	start := time.Now()
	rec := filepath.Join(out, "call.ivf")
	offer, answer := call(t, ctx, callSpec{
		offerArgs:  append([]string{"offer", "--source", "test", "--width", "640", "--height", "480"}, loopback...),
		answerArgs: append([]string{"answer", "-o", rec}, loopback...),
		offerIn:    withDebug, answerIn: withDebug,
	})
	so := newSoakProc(t, ctx, "call-offer", offer, out, start)
	sa := newSoakProc(t, ctx, "call-answer", answer, out, start)
	warm, marks := soakMarks(total)
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go sampleEvery(sctx, t, func() int { return 1 }, so, sa)
	heaps := func(name string) map[string]string {
		paths := map[string]string{}
		for _, p := range []*soakProc{so, sa} {
			path, err := p.profile("heap", name)
			if err != nil {
				t.Fatalf("%s: heap profile: %v", p.name, err)
			}
			paths[p.name] = path
		}
		return paths
	}
	sleepUntil := func(at time.Time) {
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
		}
	}
	sleepUntil(start.Add(warm))
	warmHeaps := heaps("heap-warm.pb.gz")
	sleepUntil(start.Add(total))
	endHeaps := heaps("heap-end.pb.gz")
	for _, p := range []*soakProc{so, sa} {
		if _, err := p.profile("goroutine", "goroutines-end.txt"); err != nil {
			t.Error(err)
		}
	}
	stopSampling()
	_ = offer.cmd.Process.Signal(syscall.SIGINT)
	waitOK(ctx, offer, answer)
	probe, err := exec.Command("ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,nb_read_packets", "-of", "csv=p=0", rec).Output()
	if err != nil {
		t.Errorf("ffprobe %s: %v", rec, err)
	}
	if os.Getenv("SOAK_KEEP") != "1" {
		os.Remove(rec)
	}
	text := so.report(warm, marks) + sa.report(warm, marks) + fmt.Sprintf(
		"recording (width,height,frames): %s\nload average at the end: %s\n",
		strings.TrimSpace(string(probe)), loadavg())
	for _, p := range []*soakProc{so, sa} {
		text += fmt.Sprintf("%s heap growth, end vs warm-up:\n%s", p.name, heapDiff(warmHeaps[p.name], endHeaps[p.name]))
	}
	soakSummary(t, out, text)
}
