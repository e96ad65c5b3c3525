package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// link is an in-process signaling channel between two sessions: the second
// implementation of the seam, next to copy-paste. The offering side's
// ExchangeOffer hands its offer to the answering side's ExchangeAnswer and
// gets its answer back.
type link struct {
	offers  chan webrtc.SessionDescription
	answers chan webrtc.SessionDescription
	window  time.Duration
	// mangle, when set, changes the offer on its way (a bad paste).
	mangle func(*webrtc.SessionDescription)
	// drop, when set, loses the answer on its way (never pasted back).
	drop bool
}

func newLink() *link {
	return &link{offers: make(chan webrtc.SessionDescription, 1), answers: make(chan webrtc.SessionDescription, 1)}
}

func (l *link) ExchangeOffer(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if l.mangle != nil {
		l.mangle(&offer)
	}
	l.offers <- offer
	select {
	case a := <-l.answers:
		return a, nil
	case <-ctx.Done():
		return webrtc.SessionDescription{}, ctx.Err()
	}
}

func (l *link) ExchangeAnswer(ctx context.Context, makeAnswer func(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error)) error {
	var offer webrtc.SessionDescription
	select {
	case offer = <-l.offers:
	case <-ctx.Done():
		return ctx.Err()
	}
	answer, err := makeAnswer(ctx, offer)
	if err != nil {
		return err
	}
	if !l.drop {
		l.answers <- answer
	}
	return nil
}

func (l *link) AnswerWindow() time.Duration { return l.window }

// events records a session's events, and notes a breach of the
// contract: two events handled at once, or one after Run returned.
type events struct {
	mu  sync.Mutex
	evs []Event

	inside  atomic.Int32
	overlap atomic.Bool // two calls of add ran at once
	ended   atomic.Bool // Run has returned
	late    atomic.Bool // add ran after Run returned
}

func (e *events) add(ev Event) {
	if e.inside.Add(1) > 1 {
		e.overlap.Store(true)
	}
	defer e.inside.Add(-1)
	if e.ended.Load() {
		e.late.Store(true)
	}
	// Let another handler call, if the session makes one now, run into
	// this one.
	runtime.Gosched()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

// check fails t when the session broke the events' contract.
func (e *events) check(t *testing.T) {
	t.Helper()
	if e.overlap.Load() {
		t.Errorf("two events were handled at once; events:\n%s", e)
	}
	if e.late.Load() {
		t.Errorf("an event was handled after Run returned; events:\n%s", e)
	}
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.evs {
		if _, ok := ev.(Figures); !ok {
			fmt.Fprintf(&b, "%T %+v\n", ev, ev)
		}
	}
	return b.String()
}

// find returns the first event of type T.
func find[T Event](e *events) (T, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.evs {
		if v, ok := ev.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// call is one session running in this process.
type call struct {
	ev   *events
	done chan struct{}
	res  Result
	err  error
}

func start(ctx context.Context, cfg Config) *call {
	c := &call{ev: &events{}, done: make(chan struct{})}
	cfg.Events = c.ev.add
	if cfg.Interfaces == nil {
		cfg.Interfaces = []string{"lo"}
	}
	go func() {
		defer close(c.done)
		c.res, c.err = Run(ctx, cfg, nil)
		c.ev.ended.Store(true)
	}()
	return c
}

func (c *call) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-c.done:
		c.ev.check(t)
		return c.err
	case <-time.After(90 * time.Second):
		t.Fatalf("session did not end; events:\n%s", c.ev)
		return nil
	}
}

// TestTwoSessions runs an offering and an answering session in this
// process over loopback, the descriptions carried by an in-process link,
// and checks the recording, the events and the stats lines.
func TestTwoSessions(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	tests := []struct {
		name   string
		w, h   int
		output string
	}{
		{"webm", 320, 240, "out.webm"},
		{"ivf", 640, 480, "out.ivf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dir := t.TempDir()
			l := newLink()
			statsPath := filepath.Join(dir, "stats.jsonl")
			stats, err := os.Create(statsPath)
			if err != nil {
				t.Fatal(err)
			}
			defer stats.Close()
			o := start(ctx, Config{Offer: l, Source: capture.Source{Kind: capture.Test}, Width: tc.w, Height: tc.h, Duration: 2 * time.Second})
			a := start(ctx, Config{Answer: l, Output: filepath.Join(dir, tc.output), Stats: stats})
			if err := o.wait(t); err != nil {
				t.Fatalf("offer: %v\n%s", err, o.ev)
			}
			if err := a.wait(t); err != nil {
				t.Fatalf("answer: %v\n%s", err, a.ev)
			}
			p := testutil.Probe(t, filepath.Join(dir, tc.output))
			if p.Codec != "vp8" || p.Width != tc.w || p.Height != tc.h || p.Frames < 40 || p.Frames > 75 {
				t.Fatalf("recording: %+v (%d sent); want vp8 %dx%d about 60", p, o.res.FramesSent, tc.w, tc.h)
			}
			if o.res.FramesSent < uint64(p.Frames) || a.res.FramesRecv != uint64(p.Frames) {
				t.Errorf("sent %d, received %d, file has %d", o.res.FramesSent, a.res.FramesRecv, p.Frames)
			}
			// Both sides derive the same verification code.
			vo, ok1 := find[Verification](o.ev)
			va, ok2 := find[Verification](a.ev)
			if !ok1 || !ok2 || vo.Code != va.Code || len(vo.Code) != 7 {
				t.Errorf("verification codes %q and %q; want the same six digits", vo.Code, va.Code)
			}
			if e, ok := find[Ending](o.ev); !ok || e.Reason != EndDuration {
				t.Errorf("offer ended with %+v; want EndDuration", e)
			}
			if e, ok := find[Ending](a.ev); !ok || e.Reason != EndHungUp {
				t.Errorf("answer ended with %+v; want EndHungUp (the offer hung up)", e)
			}
			if c, ok := find[Connected](a.ev); !ok || !c.Known || c.Pair.Kind() != "host/udp" {
				t.Errorf("connected event %+v; want host/udp", c)
			}
			if f, ok := find[FirstFrame](a.ev); !ok || f.Width != tc.w || f.Height != tc.h {
				t.Errorf("first frame event %+v", f)
			}
			if s, ok := find[Summary](a.ev); !ok || s.Result.FramesRecv != uint64(p.Frames) || !s.Final.Final {
				t.Errorf("summary %+v", s)
			}
			checkStats(t, statsPath, uint64(p.Frames))
		})
	}
}

func checkStats(t *testing.T, path string, frames uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("stats: %d lines; want one a second and a final one", len(lines))
	}
	var last map[string]any
	for _, l := range lines {
		last = nil
		if err := json.Unmarshal([]byte(l), &last); err != nil {
			t.Fatalf("stats line %q: %v", l, err)
		}
		for _, k := range []string{"t", "role", "state", "pair", "rtt_ms", "send_bps", "recv_bps", "fps_sent", "fps_recv",
			"frames_sent", "frames_recv", "packets_lost", "nack", "pli", "target_bps", "encode_ms"} {
			if _, ok := last[k]; !ok {
				t.Fatalf("stats line lacks %q: %s", k, l)
			}
		}
	}
	if last["final"] != true || last["role"] != "answer" || last["pair"] != "host/udp" {
		t.Fatalf("final line: %v", last)
	}
	if got := uint64(last["frames_recv"].(float64)); got != frames {
		t.Errorf("final frames_recv %d; the file has %d", got, frames)
	}
	if bps := last["recv_bps"].(float64); bps < 100_000 {
		t.Errorf("final recv_bps %.0f: implausibly low", bps)
	}
}

// TestSessionFailures: each way a session fails before or during the call
// returns its typed error, and leaves no goroutine behind.
func TestSessionFailures(t *testing.T) {
	defer test.CheckRoutines(t)()
	tests := []struct {
		name  string
		codec bool // needs libvpx
		setup func(l *link, dir string) (off, ans Config)
		// check judges the errors of the offering and answering sides.
		check func(t *testing.T, offErr, ansErr error)
	}{
		{
			name: "a signaler's error ends the session", codec: false,
			setup: func(l *link, dir string) (Config, Config) {
				return Config{Offer: failing{errors.New("blob is corrupted")}, Output: filepath.Join(dir, "x.webm")}, Config{}
			},
			check: func(t *testing.T, offErr, _ error) {
				if offErr == nil || offErr.Error() != "blob is corrupted" {
					t.Fatalf("got %v; want the signaler's error unchanged", offErr)
				}
			},
		},
		{
			name: "an offer without VP8 is refused", codec: false,
			setup: func(l *link, dir string) (Config, Config) {
				l.mangle = func(sd *webrtc.SessionDescription) {
					sd.SDP = strings.ReplaceAll(sd.SDP, "VP8/90000", "H264/90000")
				}
				return Config{Offer: l, Output: filepath.Join(dir, "never.webm"), ConnectTimeout: 3 * time.Second},
					Config{Answer: l, Output: filepath.Join(dir, "never2.webm")}
			},
			check: func(t *testing.T, _, ansErr error) {
				if !errors.Is(ansErr, peer.ErrNoCommonCodec) {
					t.Fatalf("got %v; want ErrNoCommonCodec", ansErr)
				}
			},
		},
		{
			name: "an offer without video is refused", codec: false,
			setup: func(l *link, dir string) (Config, Config) {
				l.mangle = func(sd *webrtc.SessionDescription) {
					sd.SDP = strings.Replace(sd.SDP, "m=video", "m=audio", 1)
				}
				// A receive-only offer asks for sound too, and sound
				// alone is a valid call: this offer asks for video alone.
				video, _ := codecs.Default(codec.Video)
				return Config{Offer: l, Output: filepath.Join(dir, "never5.webm"), Codecs: []codec.Descriptor{video}},
					Config{Answer: l, Output: filepath.Join(dir, "never6.webm")}
			},
			check: func(t *testing.T, _, ansErr error) {
				if !errors.Is(ansErr, peer.ErrNoCommonCodec) {
					t.Fatalf("got %v; want ErrNoCommonCodec", ansErr)
				}
			},
		},
		{
			name: "an answer that never arrives times out with the window counted", codec: false,
			setup: func(l *link, dir string) (Config, Config) {
				l.drop, l.window = true, 500*time.Millisecond
				return Config{Offer: l, Output: filepath.Join(dir, "never3.webm"), ConnectTimeout: time.Second},
					Config{Answer: l, Output: filepath.Join(dir, "never4.webm"), ConnectTimeout: time.Second}
			},
			check: func(t *testing.T, _, ansErr error) {
				var cte *ConnectTimeoutError
				if !errors.As(ansErr, &cte) || !errors.Is(ansErr, ErrConnectTimeout) || cte.Window != 500*time.Millisecond || cte.Waited != 1500*time.Millisecond {
					t.Fatalf("got %v (%+v); want a ConnectTimeoutError of 1.5s with the 0.5s window", ansErr, cte)
				}
			},
		},
		{
			name: "a source that breaks mid-call ends it with ErrSourceFailed", codec: true,
			setup: func(l *link, dir string) (Config, Config) {
				return Config{Offer: l, Source: y4mPipe(t, 2, "GARBAGE\n")},
					Config{Answer: l, Output: filepath.Join(dir, "cut.webm")}
			},
			check: func(t *testing.T, offErr, ansErr error) {
				if !errors.Is(offErr, ErrSourceFailed) || !strings.Contains(offErr.Error(), "y4m") {
					t.Fatalf("offer: %v; want ErrSourceFailed", offErr)
				}
				if ansErr != nil {
					t.Fatalf("answer: %v; the other side hanging up is a normal end", ansErr)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.codec {
				testutil.NeedCodec(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			off, ans := tc.setup(newLink(), t.TempDir())
			// The offering side waits for an answer that may never come:
			// it stops once the answering side has ended.
			offCtx, stopOffer := context.WithCancel(ctx)
			defer stopOffer()
			o := start(offCtx, off)
			var ansErr error
			if ans.Answer != nil {
				ansErr = start(ctx, ans).wait(t)
				if !tc.codec {
					stopOffer()
				}
			}
			offErr := o.wait(t)
			tc.check(t, offErr, ansErr)
		})
	}
}

// TestInterruptedBeforeConnecting: cancelling while the signaler waits is
// ErrInterrupted, and the result says so.
func TestInterruptedBeforeConnecting(t *testing.T) {
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithCancel(context.Background())
	c := start(ctx, Config{Answer: newLink(), Output: filepath.Join(t.TempDir(), "x.webm")})
	time.AfterFunc(200*time.Millisecond, cancel)
	err := c.wait(t)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) || !c.res.Interrupted || c.res.Connected {
		t.Fatalf("got %v, %+v; want ErrInterrupted wrapping context.Canceled", err, c.res)
	}
}

// TestConfigNeedsOneSignaler: no signaler, or both, is a programming error
// reported before anything opens.
func TestConfigNeedsOneSignaler(t *testing.T) {
	l := newLink()
	for _, cfg := range []Config{{}, {Offer: l, Answer: l}} {
		if _, err := Run(context.Background(), cfg, nil); !errors.Is(err, ErrNoSignaler) {
			t.Errorf("Run(%+v): %v; want ErrNoSignaler", cfg, err)
		}
	}
	if _, err := Run(context.Background(), Config{Offer: l}, nil); !errors.Is(err, ErrNothingToDo) {
		t.Errorf("no source and no output: %v; want ErrNothingToDo", err)
	}
}

// failing is a signaler whose exchange fails at once.
type failing struct{ err error }

func (f failing) ExchangeOffer(context.Context, webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	return webrtc.SessionDescription{}, f.err
}

// y4mPipe is a standard-input source carrying a 64x48 Y4M stream of n
// frames and then tail, written by a goroutine that closes the pipe.
func y4mPipe(t *testing.T, n int, tail string) capture.Source {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	frame := "FRAME\n" + strings.Repeat("\x80", 64*48*3/2)
	data := "YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n" + strings.Repeat(frame, n) + tail
	go func() {
		defer w.Close()
		_, _ = io.WriteString(w, data)
	}()
	return capture.Source{Kind: capture.File, Arg: "-", In: r}
}

// TestStreamSourceEndsTheCall: a streamed source that comes to its end
// ends the call normally (EndSourceEnded, no error), after sending every
// frame, and the other side, told at once, finalizes its recording.
func TestStreamSourceEndsTheCall(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := newLink()
	out := filepath.Join(t.TempDir(), "stream.webm")
	o := start(ctx, Config{Offer: l, Source: y4mPipe(t, 45, "")})
	a := start(ctx, Config{Answer: l, Output: out})
	if err := o.wait(t); err != nil {
		t.Fatalf("offer: %v\n%s", err, o.ev)
	}
	if err := a.wait(t); err != nil {
		t.Fatalf("answer: %v\n%s", err, a.ev)
	}
	if e, ok := find[Ending](o.ev); !ok || e.Reason != EndSourceEnded {
		t.Errorf("offer ended with %+v; want EndSourceEnded\n%s", e, o.ev)
	}
	if e, ok := find[Ending](a.ev); !ok || e.Reason != EndHungUp || e.Remote.Why != WhySourceEnded {
		t.Errorf("answer ended with %+v; want EndHungUp, told the source ended", e)
	}
	if o.res.FramesSent != 45 {
		t.Errorf("sent %d frames; the stream has 45", o.res.FramesSent)
	}
	if p := testutil.Probe(t, out); p.Frames < 30 {
		t.Errorf("recording %+v; want most of the 45 frames", p)
	}
	testutil.DecodesCleanly(t, out)
}

// TestStatsEndWithFinalLine: a call that never connects still ends its
// stats with a final line, carrying the reason.
func TestStatsEndWithFinalLine(t *testing.T) {
	var buf strings.Builder
	_, err := Run(context.Background(), Config{Offer: failing{errors.New("blob is corrupted")}, Output: filepath.Join(t.TempDir(), "x.webm"), Stats: &buf, Interfaces: []string{"lo"}}, nil)
	if err == nil {
		t.Fatal("the call succeeded")
	}
	var line map[string]any
	if jerr := json.Unmarshal([]byte(buf.String()), &line); jerr != nil || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("stats %q: %v; want one JSON line", buf.String(), jerr)
	}
	if line["final"] != true || line["error"] != "blob is corrupted" || line["role"] != "offer" || line["state"] != "not connected" {
		t.Fatalf("final line %v", line)
	}
}
