package serve

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	pcodecs "github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// The tests in this file are the attacks of issue 20 on loopback, one per
// row of its table; each failed on the server before it was hardened.

// serving starts a test-pattern server with cfg and returns its URLs and
// a function that stops it and checks Run's result.
func serving(t *testing.T, ctx context.Context, cfg Config) (Listening, *eventLog, func()) {
	t.Helper()
	cfg.Source = capture.Source{Kind: capture.Test}
	cfg.Capture = capture.Options{Width: 160, Height: 120}
	sctx, stop := context.WithCancel(ctx)
	ran, log := start(t, sctx, cfg)
	ready := log.listening(t, ctx)
	stopped := false
	end := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(end)
	return ready, log, end
}

// hostOf is the host:port of a URL.
func hostOf(t *testing.T, u string) string {
	t.Helper()
	rest := strings.TrimPrefix(u, "http://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// closedWithin reads c until it is closed (EOF or reset) and fails unless
// that happens within d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: still open after %v", what, d)
		return
	}
	t.Logf("%s: closed after %v", what, time.Since(start).Round(time.Millisecond))
}

// TestIdleConnectionsAreCut (row 1): connections that send nothing, or
// nothing after a request, are closed within the header and idle
// timeouts, and while the cap on open connections is full a real request
// waits for a slot rather than failing for good.
func TestIdleConnectionsAreCut(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{limits: limits{conns: 4, readHeader: 500 * time.Millisecond, idle: 500 * time.Millisecond}})
	addr := hostOf(t, ready.Page)

	// Four silent connections fill the cap.
	var silent []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	// The page still loads: it waits for a silent one to be cut.
	start := time.Now()
	res, err := (&http.Client{Timeout: 5 * time.Second}).Get(ready.Page)
	if err != nil {
		t.Fatalf("the page while idle connections fill the cap: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("page: %s", res.Status)
	}
	t.Logf("page loaded after %v with the cap full of idle connections", time.Since(start).Round(time.Millisecond))
	for i, c := range silent {
		closedWithin(t, c, 2*time.Second, fmt.Sprintf("silent connection %d", i))
	}

	// A keep-alive connection after a request with the token is cut after
	// the idle timeout; one without the token at once.
	for _, path := range []string{strings.TrimPrefix(ready.Page, "http://"+addr), "/wrongtoken/"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		closedWithin(t, c, 2*time.Second, "keep-alive after GET "+strings.Replace(path, hostOf(t, ready.Page), "", 1))
	}
}

// TestSlowBodyIsCut (row 2): a chunked body dripping a byte every 200 ms
// is cut within the read timeout, with the token and without it.
func TestSlowBodyIsCut(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{limits: limits{read: time.Second}})
	addr := hostOf(t, ready.Page)
	for _, tt := range []struct{ name, path string }{
		{"with the token", strings.TrimPrefix(ready.WHEP, "http://"+addr)},
		{"without", "/wrongtoken/whep"},
	} {
		path := tt.path
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/sdp\r\nTransfer-Encoding: chunked\r\n\r\n", path, addr)
			dripping := make(chan struct{})
			go func() {
				defer close(dripping)
				for i := 0; i < 100; i++ {
					if _, err := io.WriteString(c, "1\r\nv\r\n"); err != nil {
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
			}()
			closedWithin(t, c, 3*time.Second, "slow body")
			c.Close()
			<-dripping
		})
	}
}

// offerSDP is a receive-only viewer's offer, made by a pion peer that
// never applies an answer (so it never sends a connectivity check).
func offerSDP(t *testing.T, ctx context.Context) (*peer.Peer, string) {
	t.Helper()
	p, err := peer.New(peer.Config{Receive: []codec.Kind{codec.Video}, Codecs: pcodecs.All(), Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	o, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return p, o.SDP
}

// post POSTs body as contentType to u and returns the status, the body
// and the Location.
func post(t *testing.T, u, contentType, body string) (int, string, string) {
	t.Helper()
	res, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header.Get("Location")
}

// TestSilentOffersDoNotHoldSlots (row 3): offers that never send a
// connectivity check hold only pending places, are refused beyond
// MaxPending, and are dropped within about 5 s; a real viewer then
// watches.
func TestSilentOffersDoNotHoldSlots(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ready, log, _ := serving(t, ctx, Config{MaxViewers: 2, MaxPending: 2})
	_, sdp := offerSDP(t, ctx)
	start := time.Now()
	for i := range 2 {
		if code, body, _ := post(t, ready.WHEP, "application/sdp", sdp); code != http.StatusCreated {
			t.Fatalf("silent offer %d: %d %s", i, code, body)
		}
	}
	if code, _, _ := post(t, ready.WHEP, "application/sdp", sdp); code != http.StatusServiceUnavailable {
		t.Fatalf("a third pending viewer: %d; want 503", code)
	}
	for left := 0; left < 2; {
		select {
		case ev := <-log.ch:
			if l, ok := ev.(ViewerLeft); ok {
				if l.Reason != "it never tried to connect" {
					t.Errorf("dropped for %q", l.Reason)
				}
				left++
			}
		case <-ctx.Done():
			t.Fatal("silent offers never dropped")
		}
	}
	if d := time.Since(start); d > 7*time.Second {
		t.Errorf("silent offers dropped after %v; want about 5 s", d)
	} else {
		t.Logf("silent offers dropped after %v", d.Round(time.Millisecond))
	}
	w := watch(t, ctx, ready.WHEP)
	w.waitFrames(t, ctx, 10)
}

// TestChurnLeavesNothingBehind (row 4): POST then DELETE in a loop leaves
// no goroutine behind: each DELETE ends the viewer's watch at once, not
// when its connect deadline passes.
func TestChurnLeavesNothingBehind(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{})
	root := "http://" + hostOf(t, ready.Page)
	_, sdp := offerSDP(t, ctx)
	// One cycle first, so the lazily started parts of the server and of
	// net/http are counted in the base.
	cycle := func() {
		code, body, loc := post(t, ready.WHEP, "application/sdp", sdp)
		if code != http.StatusCreated {
			t.Fatalf("offer: %d %s", code, body)
		}
		req, _ := http.NewRequest(http.MethodDelete, root+loc, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("DELETE %s: %s", loc, res.Status)
		}
	}
	cycle()
	base := runtime.NumGoroutine()
	const cycles = 60
	for range cycles {
		cycle()
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(3 * time.Second)
	n := runtime.NumGoroutine()
	for ; n > base+10 && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}
	if n > base+10 {
		t.Fatalf("%d goroutines after %d POST/DELETE cycles; %d before", n, cycles, base)
	}
	t.Logf("goroutines: %d before, %d after %d cycles", base, n, cycles)
}

// TestOffersAsksTooMuch (rows 6, 7): an offer with 1000 candidates or 500
// media sections is refused before any peer is built.
func TestOfferAskingTooMuchIsRefused(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{})
	_, sdp := offerSDP(t, ctx)
	head, _, ok := strings.Cut(sdp, "m=video")
	if !ok {
		t.Fatalf("no video section in %q", sdp)
	}
	var sections strings.Builder
	for i := range 500 {
		fmt.Fprintf(&sections, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:%d\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n", i)
	}
	var cands strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&cands, "a=candidate:%d 1 udp 2130706431 192.0.2.%d %d typ host\r\n", i, i%250+1, 10000+i)
	}
	tests := []struct {
		name, offer, want string
	}{
		{"1000 candidates", sdp + cands.String(), "candidates"},
		{"500 media sections", head + sections.String(), "media sections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, body, _ := post(t, ready.WHEP, "application/sdp", tt.offer)
			if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %q; want 400 about %s", code, body, tt.want)
			}
			t.Logf("refused in %v: %s", time.Since(start).Round(time.Microsecond), strings.TrimSpace(body))
		})
	}
}

// TestKeyFrameFloodIsRateLimited (row 8): a viewer asking for a keyframe
// 30 times a second gets at most one per 500 ms (and so does everyone
// else), not one every frame.
func TestKeyFrameFloodIsRateLimited(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{})
	p, tr := rawViewer(t, ctx, ready.WHEP)
	// Count keyframes in frames that arrive while the flood lasts.
	var keys, frames atomic.Int64
	counting := make(chan struct{})
	go func() {
		defer close(counting)
		var vp8 codecs.VP8Packet
		for {
			pkt, _, err := tr.Track.ReadRTP()
			if err != nil {
				return
			}
			if _, err := vp8.Unmarshal(pkt.Payload); err != nil {
				continue
			}
			if vp8.S == 1 && vp8.PID == 0 && len(vp8.Payload) > 0 {
				frames.Add(1)
				if vp8.Payload[0]&1 == 0 {
					keys.Add(1)
				}
			}
		}
	}()
	const flood = 3 * time.Second
	tick := time.NewTicker(time.Second / 30)
	end := time.After(flood)
	for done := false; !done; {
		select {
		case <-tick.C:
			if err := p.RequestKeyFrame(tr.SSRC()); err != nil {
				t.Fatal(err)
			}
		case <-end:
			done = true
		}
	}
	tick.Stop()
	k, f := keys.Load(), frames.Load()
	p.Close()
	<-counting
	if limit := int64(flood/keyFrameEvery) + 2; k > limit {
		t.Fatalf("%d keyframes in %d frames during a %v PLI flood at 30/s; want at most %d", k, f, flood, limit)
	}
	t.Logf("%d keyframes in %d frames during a %v PLI flood at 30/s", k, f, flood)
}

// rawViewer plays endpoint and returns its peer and its video track, for
// the caller to read.
func rawViewer(t *testing.T, ctx context.Context, endpoint string) (*peer.Peer, peer.RemoteTrack) {
	t.Helper()
	p, sdp := offerSDP(t, ctx)
	code, body, _ := post(t, endpoint, "application/sdp", sdp)
	if code != http.StatusCreated {
		t.Fatalf("offer: %d %s", code, body)
	}
	if err := p.Accept(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	select {
	case tr := <-p.Tracks():
		return p, tr
	case <-ctx.Done():
		t.Fatal("no track")
	}
	return nil, peer.RemoteTrack{}
}

// TestWithoutTheTokenNothingAnswers (row 9): without the token every
// method and path gets the same 404 page, no 405 and no Allow header.
func TestWithoutTheTokenNothingAnswers(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{})
	root := "http://" + hostOf(t, ready.Page)
	for _, m := range []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "HEAD"} {
		for _, p := range []string{"/", "/x/", "/x/whep", "/x/whep/abc", "/x"} {
			req, _ := http.NewRequest(m, root+p, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound || res.Header.Get("Allow") != "" {
				t.Errorf("%s %s: %s, Allow %q; want 404 and no Allow", m, p, res.Status, res.Header.Get("Allow"))
			}
			if m != "HEAD" && !strings.Contains(string(body), "This link is not valid") {
				t.Errorf("%s %s: body %q; want it to say the link is not valid", m, p, body)
			}
		}
	}
}

// TestPageHeadersAndContentType (row 10): the page carries a CSP that
// allows exactly its inline script and style by hash and no framing,
// nosniff and no referrer; an offer must be application/sdp exactly
// (parameters allowed).
func TestPageHeadersAndContentType(t *testing.T) {
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready, _, _ := serving(t, ctx, Config{})
	res, err := http.Get(ready.Page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		// The first element outside comments, as the browser finds it.
		visible := regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAll(body, nil)
		m := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindSubmatch(visible)
		if m == nil {
			t.Fatalf("no <%s> in the page", tag)
		}
		sum := sha256.Sum256(m[1])
		want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s: %q; want %q", h, got, want)
		}
	}
	tests := []struct {
		ct   string
		want int
	}{
		{"application/sdpfoo", http.StatusUnsupportedMediaType},
		{"application/sdp+json", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"", http.StatusUnsupportedMediaType},
		{"application/sdp; charset=utf-8", http.StatusBadRequest}, // accepted; the body is no SDP
		{"Application/SDP", http.StatusBadRequest},
	}
	for _, tt := range tests {
		if code, body, _ := post(t, ready.WHEP, tt.ct, "not sdp"); code != tt.want {
			t.Errorf("POST as %q: %d %q; want %d", tt.ct, code, body, tt.want)
		}
	}
}

// TestKeyLimiter: requests within the gap are folded into one keyframe at
// its end; none is forced after stop.
func TestKeyLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var forced []time.Time
		k := newKeyLimiter(500*time.Millisecond, func() { forced = append(forced, time.Now()) })
		start := time.Now()
		// 30 requests a second for 3 s.
		for range 90 {
			k.request()
			time.Sleep(time.Second / 30)
		}
		synctest.Wait()
		if len(forced) == 0 || forced[0] != start {
			t.Fatalf("keyframes at %v; want the first at once", forced)
		}
		for i := 1; i < len(forced); i++ {
			if d := forced[i].Sub(forced[i-1]); d < 500*time.Millisecond {
				t.Errorf("keyframe %d came %v after the one before; want at least 500 ms", i, d)
			}
		}
		if len(forced) < 6 || len(forced) > 7 {
			t.Errorf("%d keyframes over 3 s of requests; want 6 or 7", len(forced))
		}
		n := len(forced)
		k.request() // owed at the end of the gap
		k.stop()
		k.request()
		time.Sleep(time.Second)
		synctest.Wait()
		if len(forced) != n {
			t.Errorf("%d keyframes forced after stop", len(forced)-n)
		}
	})
}
