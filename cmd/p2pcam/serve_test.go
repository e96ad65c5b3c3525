package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// served starts `p2pcam offer --serve` on loopback and returns it with its
// page and WHEP URLs.
func served(t *testing.T, ctx context.Context, args ...string) (p *proc, page, whep string) {
	t.Helper()
	return servedEnv(t, ctx, nil, args...)
}

// servedEnv is served with variables added to p2pcam's environment.
func servedEnv(t *testing.T, ctx context.Context, env []string, args ...string) (p *proc, page, whep string) {
	t.Helper()
	p = startEnv(t, ctx, "serve", env, append([]string{"offer", "--serve", "127.0.0.1:0", "--source", "test"}, append(loopback, args...)...)...)
	for page == "" || whep == "" {
		l := p.blob(ctx)
		if u, ok := strings.CutPrefix(l, "page: "); ok {
			page = u
		}
		if u, ok := strings.CutPrefix(l, "whep: "); ok {
			whep = u
		}
	}
	return p, page, whep
}

// pageStats is what the served page's p2pcamStats() reports.
type pageStats struct {
	State         string `json:"state"`
	FramesDecoded int    `json:"framesDecoded"`
	FrameWidth    int    `json:"frameWidth"`
	FrameHeight   int    `json:"frameHeight"`
}

// waitDecoded polls the page until it has decoded n frames.
func (c *chromiumAt) waitDecoded(ctx context.Context, n int) pageStats {
	c.t.Helper()
	var st pageStats
	for {
		// Until the page's script has run, p2pcamStats is undefined.
		err := c.eval("p2pcamStats()", &st)
		if err == nil && st.FramesDecoded >= n {
			return st
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("the page decoded %d frames; waited for %d (%+v, %v)", st.FramesDecoded, n, st, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestServedPagePlaysInChromium: the page p2pcam serves plays the camera in
// a browser, and the browser leaving is noticed at once.
func TestServedPagePlaysInChromium(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, page, _ := served(t, ctx, "--width", "320", "--height", "240")
	c := openChromium(t, ctx, page)
	st := c.waitDecoded(ctx, 60)
	if st.FrameWidth != 320 || st.FrameHeight != 240 || st.State != "connected" {
		t.Fatalf("page: %+v; want 320x240 connected", st)
	}
	srv.waitFor(ctx, "(1 watching)")
	// Closing the page DELETEs the viewer (pagehide).
	var ignored any
	_ = c.eval("location.href = 'about:blank'; true", &ignored)
	srv.waitFor(ctx, "left: it hung up (0 watching)")
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	if code := srv.wait(ctx); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}

// TestServeManyViewers: two `p2pcam answer --whep` viewers and headless
// Chromium watch one `offer --serve` at once; the first viewer leaving
// disturbs neither of the others; requests without the token are refused.
func TestServeManyViewers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, page, whep := served(t, ctx, "--width", "320", "--height", "240")

	// Without the token nothing is served.
	root := page[:strings.Index(page[len("http://"):], "/")+len("http://")+1]
	for _, u := range []string{root, root + "whep", root + "nottoken/", root + "nottoken/whep"} {
		res, err := http.Post(u, "application/sdp", strings.NewReader("v=0\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Errorf("POST %s without the token: %s; want it refused", u, res.Status)
		}
	}

	dir := t.TempDir()
	first := filepath.Join(dir, "first.webm")
	second := filepath.Join(dir, "second.ivf")
	firstStats, secondStats := filepath.Join(dir, "first.jsonl"), filepath.Join(dir, "second.jsonl")
	a := start(t, ctx, "viewer 1", false, append([]string{"answer", "--whep", whep, "-o", first, "--duration", "3s", "--stats", firstStats}, loopback...)...)
	b := start(t, ctx, "viewer 2", false, append([]string{"answer", "--whep", whep, "-o", second, "--duration", "8s", "--stats", secondStats}, loopback...)...)
	c := openChromium(t, ctx, page)
	c.waitDecoded(ctx, 30)
	srv.waitFor(ctx, "(3 watching)")

	waitOK(ctx, a)
	srv.waitFor(ctx, "left: it hung up (2 watching)")
	// The others keep getting pictures after the first left.
	before := c.waitDecoded(ctx, 0).FramesDecoded
	st := c.waitDecoded(ctx, before+60)
	if st.FrameWidth != 320 || st.FrameHeight != 240 {
		t.Errorf("browser: %+v", st)
	}
	waitOK(ctx, b)

	// Each viewer's file holds what it received, and it received a moving
	// picture for its whole duration: counted against its own --stats,
	// not against a clock (under -race, with the other tests running side by
	// side, the sender managed 9 fps at a load of 12, not the nominal 30):
	// 5 fps is a moving picture.
	for _, f := range []struct {
		path, stats string
		secs        int
	}{{first, firstStats, 3}, {second, secondStats, 8}} {
		p := testutil.Probe(t, f.path)
		testutil.DecodesCleanly(t, f.path)
		recv := finalCounts(t, f.stats).FramesRecv
		if p.Codec != "vp8" || p.Width != 320 || p.Frames < recv*95/100 || recv < f.secs*5 {
			t.Errorf("%s: %+v of %d received; want vp8 320x240 holding at least 95%% of them, and at least %d received", f.path, p, recv, f.secs*5)
		}
	}
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	if code := srv.wait(ctx); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}
