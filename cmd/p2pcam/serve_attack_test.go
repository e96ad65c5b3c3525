package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// Tests of offer --serve as it meets the open internet (issue 20), on the
// binary: a URL that survives restarts, what the page says, no token in
// the viewer's output, no route shown without the token.

const keptToken = "0f3a9c5be1d2478a6b0c9e3f5a7d1b2c"

// pageStatus is the page's status line and what its script calls it.
type pageStatus struct {
	Status string `json:"status"`
	Page   string `json:"page"`
}

// waitStatus polls the page until its status line contains s.
func (c *chromiumAt) waitStatus(ctx context.Context, s string) {
	c.t.Helper()
	var st pageStatus
	for {
		err := c.eval("p2pcamStats()", &st)
		if err == nil && strings.Contains(st.Status, s) {
			c.t.Logf("page says %q", st.Status)
			return
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("the page never said %q; it says %q (%v)", s, st.Status, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop interrupts a server and checks that it exits cleanly.
func stop(t *testing.T, ctx context.Context, p *proc) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(ctx); code != 0 {
		t.Fatalf("%s exited %d\n%s", p.name, code, p.errText())
	}
}

// TestServedPageAcrossRestarts: with a token kept in $P2PCAM_SERVE_TOKEN
// the page's URL works again after a restart, and the page says what
// happens in words: live; the camera stopped, waiting for it; live again
// by itself when it is back; this link is not valid once the camera runs
// with another token. It has no scrollbar and a fullscreen button.
func TestServedPageAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	kept := []string{"P2PCAM_SERVE_TOKEN=" + keptToken}
	srv, page, _ := servedEnv(t, ctx, kept, "--width", "320", "--height", "240")
	if !strings.Contains(page, "/"+keptToken+"/") {
		t.Fatalf("page %s does not carry the kept token", page)
	}
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	c := openChromium(t, ctx, page)
	c.waitDecoded(ctx, 20)
	c.waitStatus(ctx, "live")
	var layout struct {
		Scrolls    bool `json:"scrolls"`
		Fullscreen bool `json:"fullscreen"`
		Styled     bool `json:"styled"` // the CSP let the style element in
	}
	if err := c.eval(`({scrolls: document.documentElement.scrollHeight > innerHeight || document.documentElement.scrollWidth > innerWidth,
		fullscreen: !!document.getElementById('full') && document.getElementById('full').textContent === 'fullscreen',
		styled: getComputedStyle(document.body).overflow === 'hidden'})`, &layout); err != nil {
		t.Fatal(err)
	}
	if layout.Scrolls || !layout.Fullscreen || !layout.Styled {
		t.Errorf("page layout %+v; want no scrollbar, a fullscreen button, and its style applied", layout)
	}

	stop(t, ctx, srv)
	c.waitStatus(ctx, "the camera stopped; waiting for it to come back")

	// The camera comes back on the same address with the same token: the
	// page plays again by itself.
	again := startEnv(t, ctx, "serve again", kept, append([]string{"offer", "--serve", u.Host, "--source", "test", "--width", "320", "--height", "240"}, loopback...)...)
	if l := again.blob(ctx); l != "page: "+page {
		t.Fatalf("after the restart: %q; want the same page %s", l, page)
	}
	// Live means frames decoded are growing again, on a new connection.
	c.waitStatus(ctx, "live")
	c.waitDecoded(ctx, 20)
	stop(t, ctx, again)

	// Another token: the old link is not valid, and the page says so.
	other := start(t, ctx, "serve with another token", false, append([]string{"offer", "--serve", u.Host, "--source", "test",
		"--serve-token", "Zq3_x9-KpL2mVb7TnR4wYe0a"}, loopback...)...)
	other.blob(ctx)
	c.waitStatus(ctx, "this link is not valid")
	stop(t, ctx, other)
}

// TestServeWithoutTheToken: without the token every request gets the
// same 404 page in words, with no Allow header (the routes stay unseen);
// the page's headers forbid framing and sniffing.
func TestServeWithoutTheToken(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, page, _ := served(t, ctx)
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	root := "http://" + u.Host
	for _, tt := range []struct{ method, path string }{
		{"PUT", "/x/"}, {"GET", "/x/whep"}, {"DELETE", "/x/whep/1"}, {"OPTIONS", "/x/whep"}, {"GET", "/"},
	} {
		req, _ := http.NewRequest(tt.method, root+tt.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Allow") != "" || !strings.Contains(string(body), "This link is not valid") {
			t.Errorf("%s %s: %s, Allow %q, %q; want 404 saying the link is not valid", tt.method, tt.path, res.Status, res.Header.Get("Allow"), body)
		}
	}
	res, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'sha256-") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("page headers %v", res.Header)
	}
	stop(t, ctx, srv)
}

// TestServeTokenTooWeak: a kept token of less than 128 bits is a usage
// error (exit 2), from the flag or the environment.
func TestServeTokenTooWeak(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name string
		env  string
		args []string
	}{
		{"flag", "", []string{"--serve-token", "hunter2hunter2"}},
		{"environment", "0f3a9c5be1d2478a", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startEnv(t, ctx, "serve", []string{"P2PCAM_SERVE_TOKEN=" + tt.env}, append([]string{"offer", "--serve", "127.0.0.1:0", "--source", "test"}, tt.args...)...)
			if code := p.wait(ctx); code != 2 || !strings.Contains(p.errText(), "at least 128") {
				t.Fatalf("exit %d, %q; want 2 and a word on the 128 bits", code, p.errText())
			}
		})
	}
}

// TestWhepViewerHidesTheToken: answer takes the WHEP URL from
// $P2PCAM_WHEP (out of ps) and never prints the token in it.
func TestWhepViewerHidesTheToken(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, _, whep := served(t, ctx, "--width", "160", "--height", "120")
	token := strings.Split(strings.TrimPrefix(whep, "http://"), "/")[1]
	v := startEnv(t, ctx, "viewer", []string{"P2PCAM_WHEP=" + whep}, append([]string{"answer", "-o", "cam.webm", "--duration", "2s"}, loopback...)...)
	waitOK(ctx, v)
	out := v.errText()
	if strings.Contains(out, token) {
		t.Fatalf("the viewer printed the token:\n%s", out)
	}
	if !strings.Contains(out, "playing http://") || !strings.Contains(out, "/<token>/whep") {
		t.Errorf("the viewer did not say what it plays, token hidden:\n%s", out)
	}
	stop(t, ctx, srv)
}

// rss is a process's resident set, from /proc.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestServeChurnKeepsMemoryFlat (row 4): offers POSTed and DELETEd in a
// loop leave the server's memory where it was: each DELETE ends that
// viewer for good, at once.
func TestServeChurnKeepsMemoryFlat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	srv, page, whep := served(t, ctx, "--width", "160", "--height", "120")
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	// A real viewer's offer, made once by a pion peer that then goes.
	p, err := peer.New(peer.Config{Receive: []codec.Kind{codec.Video}, Codecs: codecs.All(), Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	offer, err := p.Offer(ctx)
	p.Close()
	if err != nil {
		t.Fatal(err)
	}
	cycles := func(n int) {
		for range n {
			res, err := http.Post(whep, "application/sdp", strings.NewReader(offer.SDP))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("offer: %s", res.Status)
			}
			req, _ := http.NewRequest(http.MethodDelete, "http://"+u.Host+res.Header.Get("Location"), nil)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("DELETE: %s", res.Status)
			}
		}
	}
	cycles(100) // warm up: lazily made pools and caches
	before := rss(t, srv.cmd.Process.Pid)
	const n = 2000
	start := time.Now()
	cycles(n)
	after := rss(t, srv.cmd.Process.Pid)
	t.Logf("RSS %.1f MB before, %.1f MB after %d POST/DELETE cycles in %v", float64(before)/1e6, float64(after)/1e6, n, time.Since(start).Round(time.Millisecond))
	if grown := after - before; grown > 15<<20 {
		t.Errorf("RSS grew %.1f MB over %d cycles; want it flat", float64(grown)/1e6, n)
	}
	stop(t, ctx, srv)
}
