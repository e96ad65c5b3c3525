//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// callSpec is one call between two p2pcam processes on loopback: offer
// sends the synthetic pattern, answer records it to a .webm (and with
// measure decodes it and reads the frame stamps).
type callSpec struct {
	bin, dir  string // p2pcam binary; folder for the call's files
	w, h, fps int
	bitrate   string // as --bitrate takes it, e.g. 2.5M
	duration  time.Duration
	measure   bool
}

// callResult is what one call measured.
type callResult struct {
	spec          callSpec
	pasteToFirst  time.Duration // answer blob written to offer's stdin -> answer's "receiving" line
	offer, answer procFigures
	notes         []string // things that went wrong without spoiling the figures
}

// procFigures are one side's figures.
type procFigures struct {
	cpuPct    float64    // user+system CPU from the first frame to the last sample, % of one core
	peakRSSMB float64    // peak resident memory over the whole process (rusage)
	rssMB     []float64  // resident memory 0, 5, 10, ... s after the first frame
	stats     []snapshot // --stats lines but the final one
	final     *snapshot  // the "final": true line, or the last line if there is none
	samples   []procSample
}

// Waits that bound a call; generous, as the machine may be loaded.
const (
	blobWait  = 30 * time.Second // for a process to print its blob
	frameWait = 30 * time.Second // from the answer pasted to the first frame
	hangWait  = 20 * time.Second // for answer to notice offer hung up
	stopWait  = 5 * time.Second  // for an interrupted process to finish
)

// runCall makes one call and returns its figures. It cleans up its
// processes whatever happens; its files stay in spec.dir.
func runCall(ctx context.Context, spec callSpec) (callResult, error) {
	res := callResult{spec: spec}
	dir, err := os.MkdirTemp(spec.dir, "call-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	common := []string{"--ice-server", "none", "--interface", "lo", "--no-clipboard"}
	offerArgs := append([]string{"offer", "--source", "test",
		"--width", fmt.Sprint(spec.w), "--height", fmt.Sprint(spec.h), "--fps", fmt.Sprint(spec.fps),
		"--bitrate", spec.bitrate, "--duration", spec.duration.String(),
		"--stats", filepath.Join(dir, "offer.jsonl")}, common...)
	answerArgs := append([]string{"answer", "-o", filepath.Join(dir, "received.webm"),
		"--stats", filepath.Join(dir, "answer.jsonl")}, common...)
	if spec.measure {
		answerArgs = append(answerArgs, "--measure")
	}
	offer, err := startProc(ctx, "offer", spec.bin, offerArgs)
	if err != nil {
		return res, err
	}
	defer offer.stop()
	answer, err := startProc(ctx, "answer", spec.bin, answerArgs)
	if err != nil {
		return res, err
	}
	defer answer.stop()

	offerBlob, err := offer.blob(ctx)
	if err != nil {
		return res, err
	}
	if err := answer.paste(offerBlob); err != nil {
		return res, err
	}
	answerBlob, err := answer.blob(ctx)
	if err != nil {
		return res, err
	}
	pasted := time.Now()
	if err := offer.paste(answerBlob); err != nil {
		return res, err
	}
	first, err := answer.firstFrame(ctx, pasted)
	if err != nil {
		return res, err
	}
	res.pasteToFirst = first.Sub(pasted)

	if err := offer.wait(ctx, spec.duration+blobWait); err != nil {
		return res, err
	}
	if err := answer.wait(ctx, hangWait); err != nil {
		// Its figures are still good: stop it the way a person would.
		res.notes = append(res.notes, fmt.Sprintf("%dx%d: answer did not end within %s of offer hanging up; interrupted it", spec.w, spec.h, hangWait))
		answer.stop()
	}
	for _, p := range []*proc{offer, answer} {
		if code := p.cmd.ProcessState.ExitCode(); code != 0 && !(p == answer && len(res.notes) > 0) {
			return res, fmt.Errorf("%s exited with code %d:\n%s", p.name, code, p.errTail())
		}
	}
	res.offer, err = offer.figures(first, filepath.Join(dir, "offer.jsonl"))
	if err != nil {
		return res, err
	}
	res.answer, err = answer.figures(first, filepath.Join(dir, "answer.jsonl"))
	return res, err
}

// proc is one running p2pcam with its streams read as they come.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout lines: the blob

	frame chan time.Time // when the "receiving WxH video" line was read

	mu      sync.Mutex
	stderr  bytes.Buffer
	samples []procSample

	readers  sync.WaitGroup // stdout and stderr readers
	exited   chan struct{}  // closed when cmd.Wait returned
	waitErr  error
	sampling chan struct{} // closed to stop the sampler
	sampled  chan struct{} // closed when the sampler stopped
	stopOnce sync.Once
}

// startProc starts bin with args. Cancelling ctx interrupts it (SIGINT,
// so it finalizes its files), then kills it if it lingers.
func startProc(ctx context.Context, name, bin string, args []string) (*proc, error) {
	p := &proc{name: name, lines: make(chan string, 4), frame: make(chan time.Time, 1),
		exited: make(chan struct{}), sampling: make(chan struct{}), sampled: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(os.Interrupt) }
	p.cmd.WaitDelay = 5 * time.Second
	// If the driver dies, so does p2pcam.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errp, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.readers.Add(2)
	go p.readStdout(out)
	go p.readStderr(errp)
	go p.sample()
	go func() {
		p.readers.Wait() // Wait closes the pipes: read them to the end first
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) readStdout(r io.Reader) {
	defer p.readers.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			select {
			case p.lines <- line:
			default: // nobody waits for more than the blob
			}
		}
	}
}

// readStderr keeps stderr for error messages and timestamps the first
// "receiving" line the moment it is read.
func (p *proc) readStderr(r io.Reader) {
	defer p.readers.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	seen := false
	for sc.Scan() {
		at := time.Now()
		line := sc.Text()
		if !seen && isFirstFrameLine(line) {
			seen = true
			p.frame <- at
		}
		p.mu.Lock()
		p.stderr.WriteString(line + "\n")
		p.mu.Unlock()
	}
}

// isFirstFrameLine tells whether line is session's "receiving WxH video
// (first frame N ms after connecting)".
func isFirstFrameLine(line string) bool {
	return strings.Contains(line, "receiving ") && strings.Contains(line, " video (first frame")
}

// errTail is the end of what the process said on stderr.
func (p *proc) errTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stderr.String()
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

// blob waits for the blob the process prints on stdout.
func (p *proc) blob(ctx context.Context) (string, error) {
	t := time.NewTimer(blobWait)
	defer t.Stop()
	select {
	case l := <-p.lines:
		return l, nil
	case <-p.exited:
		return "", fmt.Errorf("%s exited before printing its blob (%v):\n%s", p.name, p.waitErr, p.errTail())
	case <-t.C:
		return "", fmt.Errorf("%s printed no blob within %s:\n%s", p.name, blobWait, p.errTail())
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// paste hands the other side's blob to the process as one line, the way
// a terminal delivers a paste followed by Enter.
func (p *proc) paste(blob string) error {
	if _, err := io.WriteString(p.stdin, blob+"\n"); err != nil {
		return fmt.Errorf("paste into %s: %w", p.name, err)
	}
	return nil
}

// firstFrame waits for the "receiving" line and returns when it was read.
func (p *proc) firstFrame(ctx context.Context, since time.Time) (time.Time, error) {
	t := time.NewTimer(frameWait)
	defer t.Stop()
	select {
	case at := <-p.frame:
		return at, nil
	case <-p.exited:
		return time.Time{}, fmt.Errorf("%s exited before receiving a frame (%v):\n%s", p.name, p.waitErr, p.errTail())
	case <-t.C:
		return time.Time{}, fmt.Errorf("%s received no frame within %s of the paste:\n%s", p.name, frameWait, p.errTail())
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// wait waits up to d for the process to exit.
func (p *proc) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return nil
	case <-t.C:
		return fmt.Errorf("%s still running after %s:\n%s", p.name, d, p.errTail())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the process if it still runs: an interrupt first, so it
// finalizes its files, then a kill if it lingers. It returns once the
// process has exited.
func (p *proc) stop() {
	p.stopOnce.Do(func() { p.stdin.Close() })
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	t := time.NewTimer(stopWait)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// sample reads the process's CPU time and resident memory from /proc
// every sampleEvery until it exits.
func (p *proc) sample() {
	defer close(p.sampled)
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		if s, err := readProc(p.cmd.Process.Pid); err == nil {
			p.mu.Lock()
			p.samples = append(p.samples, s)
			p.mu.Unlock()
		}
		select {
		case <-tick.C:
		case <-p.exited:
			return
		}
	}
}

const sampleEvery = 500 * time.Millisecond

// figures sums up an exited process: CPU and memory from its samples and
// rusage, call figures from its --stats file.
func (p *proc) figures(first time.Time, statsFile string) (procFigures, error) {
	<-p.sampled
	var f procFigures
	p.mu.Lock()
	f.samples = append([]procSample(nil), p.samples...)
	p.mu.Unlock()
	f.cpuPct, f.rssMB = cpuAndRSS(f.samples, first, 5*time.Second)
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		f.peakRSSMB = float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	file, err := os.Open(statsFile)
	if err != nil {
		return f, fmt.Errorf("%s wrote no --stats: %w", p.name, err)
	}
	defer file.Close()
	f.stats, f.final, err = parseStats(file)
	if err != nil {
		return f, fmt.Errorf("%s --stats: %w", p.name, err)
	}
	return f, nil
}
