package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// joinWHEP connects a receive-only pion peer for video to a WHEP
// endpoint: it posts the offer, applies the answer, and returns the peer
// (closed at the test's end) and the session's resource (Location).
func joinWHEP(t *testing.T, ctx context.Context, endpoint string) (*peer.Peer, string) {
	t.Helper()
	p, err := peer.New(peer.Config{Receive: []codec.Kind{codec.Video}, Codecs: codecs.All(), Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(endpoint, "application/sdp", strings.NewReader(offer.SDP))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %s: %s", endpoint, res.Status, body)
	}
	if err := p.Accept(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatal(err)
	}
	return p, res.Header.Get("Location")
}

// watcher is a receive-only pion viewer that plays a WHEP endpoint and
// counts the frames (RTP marker bits) that arrive.
type watcher struct {
	p        *peer.Peer
	resource string
	frames   atomic.Int64
	done     chan struct{}
}

func watch(t *testing.T, ctx context.Context, endpoint string) *watcher {
	t.Helper()
	p, resource := joinWHEP(t, ctx, endpoint)
	w := &watcher{p: p, resource: resource, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		select {
		case tr := <-p.Tracks():
			for {
				pkt, _, err := tr.Track.ReadRTP()
				if err != nil {
					return
				}
				if pkt.Marker {
					w.frames.Add(1)
				}
			}
		case <-ctx.Done():
		}
	}()
	return w
}

// waitFrames waits until w has received n more frames than it had.
func (w *watcher) waitFrames(t *testing.T, ctx context.Context, n int64) {
	t.Helper()
	want := w.frames.Load() + n
	for w.frames.Load() < want {
		select {
		case <-ctx.Done():
			t.Fatalf("viewer got %d frames; waited for %d", w.frames.Load(), want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type eventLog struct {
	mu  sync.Mutex
	evs []Event
	ch  chan Event
}

func (l *eventLog) add(ev Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
	select {
	case l.ch <- ev:
	default:
	}
}

// TestViewers: two viewers watch one encoder at once; a request without
// the token is refused; one viewer leaving (DELETE) does not disturb the
// other; stopping hangs up on everyone.
func TestViewers(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &eventLog{ch: make(chan Event, 16)}
	sctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() {
		ran <- Run(sctx, Config{
			Listener: ln, Source: capture.Source{Kind: capture.Test}, Capture: capture.Options{Width: 320, Height: 240},
			Interfaces: []string{"lo"}, Events: log.add,
		})
	}()
	var ready Listening
	for ready.WHEP == "" {
		select {
		case ev := <-log.ch:
			ready, _ = ev.(Listening)
		case <-ctx.Done():
			t.Fatal("never listening")
		}
	}
	if !strings.HasSuffix(ready.WHEP, "/whep") || !strings.HasPrefix(ready.WHEP, ready.Page) {
		t.Fatalf("URLs %+v", ready)
	}

	// Without the token: 404, for the page and the endpoint alike.
	root := "http://" + ln.Addr().String() + "/"
	for _, u := range []string{root, root + "whep", root + "wrongtoken/", root + "wrongtoken/whep"} {
		res, err := http.Post(u, "application/sdp", strings.NewReader("v=0"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s without the token: %s; want it refused", u, res.Status)
		}
	}
	res, err := http.Get(ready.Page)
	if err != nil {
		t.Fatal(err)
	}
	pageBody, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(pageBody), "fetch('whep'") {
		t.Fatalf("page: %s %.80q", res.Status, pageBody)
	}

	a := watch(t, ctx, ready.WHEP)
	b := watch(t, ctx, ready.WHEP)
	a.waitFrames(t, ctx, 30)
	b.waitFrames(t, ctx, 30)

	// A leaves; B keeps watching.
	req, _ := http.NewRequest(http.MethodDelete, root+strings.TrimPrefix(a.resource, "/"), nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %s", a.resource, res.Status)
	}
	select {
	case <-a.p.HungUp():
	case <-ctx.Done():
		t.Fatal("the viewer that left was not hung up on")
	}
	b.waitFrames(t, ctx, 30)

	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-b.p.HungUp():
	case <-ctx.Done():
		t.Fatal("stopping did not hang up on the viewer left")
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var joined, left int
	for _, ev := range log.evs {
		switch ev.(type) {
		case ViewerJoined:
			joined++
		case ViewerLeft:
			left++
		}
	}
	if joined != 2 || left != 2 {
		t.Errorf("%d joined, %d left; want 2 and 2: %+v", joined, left, log.evs)
	}
	a.p.Close()
	b.p.Close()
	<-a.done
	<-b.done
}

// TestStreamedSourceEndStopsServing: a named pipe as the source plays
// once; its end stops serving without an error, says SourceEnded, and
// hangs up on the viewer watching.
func TestStreamedSourceEndStopsServing(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fifo := filepath.Join(t.TempDir(), "live")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	src, err := capture.ParseSource(fifo)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &eventLog{ch: make(chan Event, 16)}
	ran := make(chan error, 1)
	go func() {
		ran <- Run(ctx, Config{
			Listener: ln, Source: src, Capture: capture.Options{Width: 64, Height: 48},
			Interfaces: []string{"lo"}, Events: log.add,
		})
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame := "FRAME\n" + strings.Repeat("\x80", 64*48*3/2)
	if _, err := io.WriteString(w, "YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n"+frame); err != nil {
		t.Fatal(err)
	}
	var ready Listening
	for ready.WHEP == "" {
		select {
		case ev := <-log.ch:
			ready, _ = ev.(Listening)
		case <-ctx.Done():
			t.Fatal("never listening")
		}
	}
	v := watch(t, ctx, ready.WHEP)
	// Frames while the viewer watches, then the writer goes away.
	for i := 0; i < 60; i++ {
		if _, err := io.WriteString(w, frame); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	v.waitFrames(t, ctx, 5)
	w.Close()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run after the source ended: %v; want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("serving went on after the source ended")
	}
	select {
	case <-v.p.HungUp():
	case <-ctx.Done():
		t.Fatal("the viewer was not hung up on")
	}
	log.mu.Lock()
	ended := slices.ContainsFunc(log.evs, func(ev Event) bool { _, ok := ev.(SourceEnded); return ok })
	log.mu.Unlock()
	if !ended {
		t.Errorf("no SourceEnded event: %+v", log.evs)
	}
	v.p.Close()
	<-v.done
}

// start runs Run with cfg on a loopback listener, its events logged, and
// returns the channel Run's result comes on.
func start(t *testing.T, ctx context.Context, cfg Config) (<-chan error, *eventLog) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &eventLog{ch: make(chan Event, 16)}
	cfg.Listener, cfg.Events = ln, log.add
	if cfg.Interfaces == nil {
		cfg.Interfaces = []string{"lo"}
	}
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, cfg) }()
	return ran, log
}

// listening waits for the Listening event.
func (l *eventLog) listening(t *testing.T, ctx context.Context) Listening {
	t.Helper()
	for {
		select {
		case ev := <-l.ch:
			if ready, ok := ev.(Listening); ok {
				return ready
			}
		case <-ctx.Done():
			t.Fatal("never listening")
		}
	}
}

// y4mHead and y4mFrame are a tiny grey Y4M stream, 64x48.
const y4mHead = "YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n"

var y4mFrame = "FRAME\n" + strings.Repeat("\x80", 64*48*3/2)

// TestInterruptWhileOpeningAPipe: with a named pipe as the source, ending
// ctx ends Run within 2 s with ctx's error, whether no writer ever opened
// the pipe or one did and sent nothing; nothing was served.
func TestInterruptWhileOpeningAPipe(t *testing.T) {
	testutil.NeedCodec(t)
	tests := []struct {
		name   string
		writer bool // a writer opens the pipe and sends nothing
		head   bool // ... or sends the header alone
	}{
		{name: "no writer"},
		{name: "a silent writer", writer: true},
		{name: "a header and no frame", writer: true, head: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer test.CheckRoutines(t)()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			fifo := filepath.Join(t.TempDir(), "live")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no named pipes here: %v", err)
			}
			src, err := capture.ParseSource(fifo)
			if err != nil {
				t.Fatal(err)
			}
			sctx, stop := context.WithCancel(ctx)
			ran, log := start(t, sctx, Config{Source: src, Capture: capture.Options{Width: 64, Height: 48}})
			if tc.writer {
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for Run to open it
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				if tc.head {
					if _, err := io.WriteString(w, y4mHead); err != nil {
						t.Fatal(err)
					}
				}
			}
			stopped := time.Now()
			stop()
			select {
			case err := <-ran:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Run = %v; want context.Canceled", err)
				}
				if d := time.Since(stopped); d > 2*time.Second {
					t.Errorf("Run took %s to return", d)
				}
			case <-ctx.Done():
				t.Fatal("Run went on after ctx ended")
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			if len(log.evs) != 0 {
				t.Errorf("events %+v; want none", log.evs)
			}
		})
	}
}

// TestStdinSourceServesUntilItsEnd: a Y4M stream on Source.In (standard
// input) is served to a viewer, and its end stops serving cleanly.
func TestStdinSourceServesUntilItsEnd(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// The header and a first frame: opening reads them.
	if _, err := io.WriteString(w, y4mHead+y4mFrame); err != nil {
		t.Fatal(err)
	}
	ran, log := start(t, ctx, Config{
		Source:  capture.Source{Kind: capture.File, Arg: "-", In: r},
		Capture: capture.Options{Width: 64, Height: 48},
	})
	ready := log.listening(t, ctx)
	v := watch(t, ctx, ready.WHEP)
	// Frames as a pipe brings them, until the viewer has some.
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for v.frames.Load() < 10 && ctx.Err() == nil {
			if _, err := io.WriteString(w, y4mFrame); err != nil {
				return
			}
			<-tick.C
		}
	}()
	v.waitFrames(t, ctx, 10)
	<-fed
	w.Close()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run after stdin ended: %v; want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("serving went on after stdin ended")
	}
	select {
	case <-v.p.HungUp():
	case <-ctx.Done():
		t.Fatal("the viewer was not hung up on")
	}
	log.mu.Lock()
	ended := slices.ContainsFunc(log.evs, func(ev Event) bool { _, ok := ev.(SourceEnded); return ok })
	log.mu.Unlock()
	if !ended {
		t.Errorf("no SourceEnded event: %+v", log.evs)
	}
	v.p.Close()
	<-v.done
}

// lines is a Stats writer that hands each JSON line on, decoded.
type lines struct {
	mu  sync.Mutex
	all []Snapshot
	ch  chan Snapshot
}

func (l *lines) Write(b []byte) (int, error) {
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, fmt.Errorf("stats line %q: %w", b, err)
	}
	l.mu.Lock()
	l.all = append(l.all, s)
	l.mu.Unlock()
	select {
	case l.ch <- s:
	default:
	}
	return len(b), nil
}

// TestStatsLines: while serving, a line a second carries the encoder's
// figures and each viewer's (connected, frames and bytes sent, its
// target); after Run a final line averages the serving and counts the
// viewers seen. A source that cannot be opened still gets a final line,
// with the error.
func TestStatsLines(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := &lines{ch: make(chan Snapshot, 64)}
	sctx, stop := context.WithCancel(ctx)
	ran, log := start(t, sctx, Config{
		Source: capture.Source{Kind: capture.Test}, Capture: capture.Options{Width: 160, Height: 120, Bitrate: 400_000},
		Stats: st,
	})
	ready := log.listening(t, ctx)
	v := watch(t, ctx, ready.WHEP)
	v.waitFrames(t, ctx, 10)
	var got Snapshot
	for len(got.Viewers) == 0 || got.Viewers[0].FramesSent == 0 || got.Viewers[0].BytesSent == 0 || got.Viewers[0].SendBps == 0 {
		select {
		case got = <-st.ch:
		case <-ctx.Done():
			t.Fatalf("no line with a viewer's figures; last %+v", got)
		}
	}
	vf := got.Viewers[0]
	if got.Role != "serve" || got.State != "serving" || got.Final || got.FramesSent < vf.FramesSent || got.FPSSent <= 0 ||
		got.TargetBps <= 0 || got.TargetBps > 400_000 || got.SendBps < vf.SendBps || got.ViewersSeen != 1 {
		t.Errorf("line %+v", got)
	}
	if vf.State != "connected" || vf.Pair != "host/udp" || vf.TargetBps <= 0 || vf.TargetBps > 400_000 || len(vf.ID) != 12 {
		t.Errorf("viewer %+v", vf)
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	st.mu.Lock()
	last := st.all[len(st.all)-1]
	st.mu.Unlock()
	if !last.Final || last.State != "stopped" || last.ViewersSeen != 1 || len(last.Viewers) != 1 || last.FramesSent < got.FramesSent ||
		last.Viewers[0].FramesSent < vf.FramesSent || last.SendBps <= 0 || last.Error != "" {
		t.Errorf("final line %+v", last)
	}
	v.p.Close()
	<-v.done

	// A source that cannot be opened: the final line says why.
	bad := &lines{ch: make(chan Snapshot, 1)}
	ran, _ = start(t, ctx, Config{Source: capture.Source{Kind: capture.File, Arg: filepath.Join(t.TempDir(), "missing.y4m")}, Stats: bad})
	err := <-ran
	if err == nil {
		t.Fatal("Run with a missing file: nil error")
	}
	if len(bad.all) != 1 || !bad.all[0].Final || bad.all[0].State != "not serving" || bad.all[0].Error != err.Error() {
		t.Errorf("stats after failing to open: %+v; want one final line with %q", bad.all, err)
	}
}
