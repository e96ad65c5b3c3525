package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/mediamtx"
	"github.com/p2pcam/p2pcam/internal/testutil"
)

var (
	mtxPublisher = mediamtx.User{Name: "cam", Pass: "cam-secret"}
)

// publish starts `p2pcam offer --whip` into srv's path and waits until it
// is connected and srv has taken the stream, so that viewers find it.
func publish(t *testing.T, ctx context.Context, srv *mediamtx.Server, path string, args ...string) *proc {
	t.Helper()
	argv := append([]string{"offer", "--whip", srv.WHIPURL(path), "--bearer", mtxPublisher.Token(), "--source", "test"}, loopback...)
	p := start(t, ctx, "publisher", false, append(argv, args...)...)
	p.waitFor(ctx, "connected over")
	if err := srv.WaitPublishing(ctx, path); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWHIPIntoMediamtx: p2pcam publishes into a real media server with
// WHIP; three `p2pcam answer --whep` viewers at once each record at least
// 95% of the frames sent while they watched, and headless Chromium plays
// the stream from mediamtx's own WHEP page.
func TestWHIPIntoMediamtx(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	srv := mediamtx.Start(t, mediamtx.Options{Publisher: &mtxPublisher})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub := publish(t, ctx, srv, "cam", "--width", "320", "--height", "240", "--duration", "20s")

	dir := t.TempDir()
	var viewers []*proc
	var files []string
	for i := range 3 {
		f := filepath.Join(dir, fmt.Sprintf("viewer%d.webm", i))
		files = append(files, f)
		viewers = append(viewers, start(t, ctx, fmt.Sprintf("viewer %d", i), false,
			append([]string{"answer", "--whep", srv.WHEPURL("cam"), "-o", f, "--duration", "4s"}, loopback...)...))
	}
	c := openChromium(t, ctx, srv.URL()+"/cam/")
	waitOK(ctx, viewers...)
	// mediamtx asks the publisher for a keyframe every 2 s and does not
	// pass on a new reader's request: a viewer records from the next
	// keyframe, so "every frame" is every frame sent after its first.
	for i, f := range files {
		first := firstFrameMs(t, viewers[i])
		want := int(30 * (4000 - first) / 1000 * 95 / 100)
		p := testutil.Probe(t, f)
		testutil.DecodesCleanly(t, f)
		if p.Codec != "vp8" || p.Width != 320 || p.Height != 240 || p.Frames < want {
			t.Errorf("viewer %d: %+v; want vp8 320x240 with at least %d frames (first after %d ms)\n%s", i, p, want, first, viewers[i].errText())
		}
		t.Logf("viewer %d: first frame %d ms after connecting, %d frames recorded", i, first, p.Frames)
	}
	var st pageStats
	for st.FramesDecoded < 60 {
		_ = c.eval(`(() => { const v = document.querySelector('video');
			return v ? {state: 'playing', framesDecoded: v.getVideoPlaybackQuality().totalVideoFrames, frameWidth: v.videoWidth, frameHeight: v.videoHeight} : {}; })()`, &st)
		select {
		case <-ctx.Done():
			t.Fatalf("Chromium decoded %d frames from mediamtx: %+v", st.FramesDecoded, st)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if st.FrameWidth != 320 || st.FrameHeight != 240 {
		t.Errorf("Chromium plays %dx%d; want 320x240", st.FrameWidth, st.FrameHeight)
	}
	// Ctrl-C ends the session on the server too.
	_ = pub.cmd.Process.Signal(syscall.SIGINT)
	waitOK(ctx, pub)
	if !strings.Contains(srv.Log(), "DELETE /cam/whip/") {
		t.Errorf("the publisher did not DELETE its session on Ctrl-C; mediamtx's log:\n%s", srv.Log())
	}
}

// firstFrameMs reads how long after connecting a viewer got its first
// frame.
func firstFrameMs(t *testing.T, p *proc) int64 {
	t.Helper()
	m := regexp.MustCompile(`first frame (\d+) ms after connecting`).FindStringSubmatch(p.errText())
	if m == nil {
		t.Fatalf("%s never said when its first frame came\n%s", p.name, p.errText())
	}
	ms, _ := strconv.ParseInt(m[1], 10, 64)
	return ms
}

// TestMediamtxRefusals: a wrong token gets the 401 line and its hint; a
// viewer of a stream nobody publishes gets the 404 one.
func TestMediamtxRefusals(t *testing.T) {
	t.Parallel()
	srv := mediamtx.Start(t, mediamtx.Options{Publisher: &mtxPublisher})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		name       string
		args       []string
		line, hint string
	}{
		{"wrong token", []string{"offer", "--whip", srv.WHIPURL("cam"), "--bearer", "cam:wrong", "--source", "test"},
			"p2pcam: publishing to " + srv.WHIPURL("cam") + ": post offer: server answered 401 unauthorized: ",
			"p2pcam: hint: check the token: --bearer TOKEN, or $P2PCAM_BEARER in the environment"},
		{"nothing published", []string{"answer", "--whep", srv.WHEPURL("nobody"), "-o", "none.webm"},
			"p2pcam: playing " + srv.WHEPURL("nobody") + ": post offer: server answered 404 not found: ",
			"p2pcam: hint: check the path in the URL; to play (--whep), something must be publishing on that stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, ctx, tc.name, false, append(tc.args, loopback...)...)
			if code := p.wait(ctx); code != 1 {
				t.Fatalf("exit %d; want 1\n%s", code, p.errText())
			}
			lines := strings.Split(strings.TrimSpace(p.errText()), "\n")
			var errs []string
			for _, l := range lines {
				if strings.HasPrefix(l, "p2pcam: ") {
					errs = append(errs, l)
				}
			}
			if len(errs) != 2 || !strings.HasPrefix(errs[0], tc.line) || errs[1] != tc.hint {
				t.Fatalf("stderr:\n%s\nwant %q then %q", p.errText(), tc.line, tc.hint)
			}
			if strings.Contains(p.errText(), "cam:wrong") {
				t.Errorf("the token shows in the output")
			}
		})
	}
}

// TestMediamtxKilledMidCall: a viewer whose server dies mid-call ends with
// a finalized recording, holding the video it received, once the
// connection is given up.
func TestMediamtxKilledMidCall(t *testing.T) {
	t.Parallel()
	testutil.NeedFFmpeg(t)
	srv := mediamtx.Start(t, mediamtx.Options{Publisher: &mtxPublisher})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	publish(t, ctx, srv, "cam", "--width", "320", "--height", "240")
	dir := t.TempDir()
	f, stats := filepath.Join(dir, "viewer.ivf"), filepath.Join(dir, "viewer.jsonl")
	v := start(t, ctx, "viewer", false, append([]string{"answer", "--whep", srv.WHEPURL("cam"), "-o", f, "--stats", stats, "--connect-timeout", "5s"}, loopback...)...)
	v.waitFor(ctx, "receiving 320x240 video")
	// A second of video on file (mediamtx's keyframes come every 2 s: the
	// viewer records from the first one it gets).
	before := waitCounts(t, ctx, stats, "30 frames received", func(c countLine) bool { return c.FramesRecv >= 30 })
	killed := time.Now()
	srv.Kill()
	code := v.wait(ctx)
	took := time.Since(killed)
	if code != 1 || !strings.Contains(v.errText(), "connection lost") {
		t.Fatalf("exit %d; want 1 with connection lost\n%s", code, v.errText())
	}
	t.Logf("the viewer gave up %.1f s after the server died", took.Seconds())
	recv := finalCounts(t, stats)
	p := testutil.Probe(t, f)
	testutil.DecodesCleanly(t, f)
	t.Logf("received %d frames before the kill, %d in all; %d on file", before.FramesRecv, recv.FramesRecv, p.Frames)
	if recv.FramesRecv < before.FramesRecv || p.Frames < recv.FramesRecv*95/100 {
		t.Errorf("recording: %+v; want the %d frames received (%d before the server died)", p, recv.FramesRecv, before.FramesRecv)
	}
}
