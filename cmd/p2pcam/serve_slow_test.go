package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// chromiumUDPPorts lists the local ports of Chromium's UDP sockets, as ss
// shows them.
func chromiumUDPPorts(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ss", "-uapnH").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	re := regexp.MustCompile(`\S+:(\d+)\s+\S+\s+users:\(\("chrom`)
	var ports []string
	for _, l := range strings.Split(string(out), "\n") {
		if m := re.FindStringSubmatch(l); m != nil && m[1] != "0" {
			ports = append(ports, m[1])
		}
	}
	return ports
}

// TestSlowChromiumViewerKeepsPlaying: headless Chromium watches `offer
// --serve --bitrate 600k` beside two p2pcam viewers, and its link is
// policed to 300 kbit/s (an nft rule on the ports of Chromium's UDP
// sockets) for a while. Chromium is then sent the base layer and keeps
// decoding a moving picture without its page giving up, which needs the
// frames it is sent to be in order without gaps (renumbered PictureIDs,
// layer sync bits); it gets the whole stream again once the limit is
// lifted; the p2pcam viewers' recordings decode cleanly.
func TestSlowChromiumViewerKeepsPlaying(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for nft")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (apt-get install -y nftables)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	dir := t.TempDir()
	stats := filepath.Join(dir, "serve.jsonl")
	// At 600 kbit/s layer 0 takes about 240 kbit/s and layers 0-1 about
	// 360: a 300 kbit/s link carries the base layer, not more.
	srv, page, whep := served(t, ctx, "--width", "320", "--height", "240", "--bitrate", "600k", "--stats", stats)
	started := time.Now()
	var recs []string
	var viewers []*proc
	for i := range 2 {
		rec := filepath.Join(dir, fmt.Sprintf("viewer%d.ivf", i+1))
		recs = append(recs, rec)
		viewers = append(viewers, start(t, ctx, fmt.Sprintf("viewer %d", i+1), false,
			append([]string{"answer", "--whep", whep, "-o", rec}, loopback...)...))
	}
	c := openChromium(t, ctx, page)
	c.waitDecoded(ctx, 30)
	srv.waitFor(ctx, "(3 watching)")

	ports := chromiumUDPPorts(t)
	if len(ports) == 0 {
		t.Fatal("no UDP sockets of Chromium's found")
	}
	table := fmt.Sprintf("p2pcam_slowchrome_%d", os.Getpid())
	nft := func(script string) {
		t.Helper()
		cmd := exec.Command("nft", "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nft: %v\n%s\n%s", err, out, script)
		}
	}
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", table).Run() })

	// frames counts what the page decoded, across the fresh connections
	// it makes when its picture stops for 4 s (restarts counts those).
	var restarts, base, last int
	frames := func() int {
		n := c.waitDecoded(ctx, 0).FramesDecoded
		if n < last {
			restarts++
			base += last
		}
		last = n
		return base + n
	}
	sleep := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}

	f0 := frames()
	sleep(4 * time.Second)
	before := frames() - f0
	nft(fmt.Sprintf("add table inet %[1]s\nadd chain inet %[1]s out { type filter hook output priority 0; }\n"+
		"add rule inet %[1]s out udp dport { %[2]s } limit rate over 37500 bytes/second burst 8000 bytes drop\n",
		table, strings.Join(ports, ", ")))
	sleep(10 * time.Second)
	f1 := frames()
	sleep(8 * time.Second)
	during := frames() - f1
	nft(fmt.Sprintf("delete table inet %s\n", table))
	lifted := time.Now()
	t.Logf("Chromium decoded %.1f fps before, %.1f fps policed to 300 kbit/s", float64(before)/4, float64(during)/8)
	if during < 8*3 || restarts > 0 {
		t.Errorf("Chromium decoded %d frames in 8 s while policed, and started over %d times; want a moving picture", during, restarts)
	}
	// Its congestion controller climbs back at its own pace; wait for
	// the whole frame rate (at least 20 fps over 2 s) under a deadline.
	prev, fps := frames(), 0.0
	for fps < 20 {
		if time.Since(lifted) > 60*time.Second {
			t.Errorf("Chromium still decodes %.1f fps 60 s after the limit was lifted", fps)
			break
		}
		sleep(2 * time.Second)
		n := frames()
		fps, prev = float64(n-prev)/2, n
	}
	t.Logf("Chromium back to %.1f fps %.0f s after the limit was lifted", fps, time.Since(lifted).Seconds())

	for _, v := range viewers {
		_ = v.cmd.Process.Signal(syscall.SIGINT)
	}
	for _, v := range viewers {
		if code := v.wait(ctx); code != 0 && code != 130 {
			t.Fatalf("%s exited %d\n%s", v.name, code, v.errText())
		}
	}
	// The p2pcam viewers' links were not policed, but a viewer whose
	// estimate dips is thinned too: what they recorded must decode
	// cleanly, at no less than the base layer's rate.
	for _, rec := range recs {
		p := testutil.Probe(t, rec)
		testutil.DecodesCleanly(t, rec)
		secs := time.Since(started).Seconds()
		if want := int(secs * 7.5 * 0.8); p.Codec != "vp8" || p.Frames < want {
			t.Errorf("%s: %+v; want vp8 with at least %d frames", rec, p, want)
		}
		t.Logf("%s: %d frames in about %.0f s", filepath.Base(rec), p.Frames, secs)
	}
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	if code := srv.wait(ctx); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	// The server's view: some viewer was held below the top layer.
	b, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	thinned := false
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var sn struct {
			T       float64 `json:"t"`
			Target  int     `json:"target_bps"`
			Viewers []struct {
				Layer   int     `json:"layer"`
				FPS     float64 `json:"fps_sent"`
				SendBps int     `json:"send_bps"`
				Target  int     `json:"target_bps"`
				PLI     int     `json:"pli"`
			} `json:"viewers"`
		}
		if json.Unmarshal([]byte(l), &sn) != nil {
			continue
		}
		for _, v := range sn.Viewers {
			thinned = thinned || v.Layer < 2
		}
		t.Logf("t=%.0f target %d: %+v", sn.T, sn.Target, sn.Viewers)
	}
	if !thinned {
		t.Error("no viewer was ever sent fewer than all layers")
	}
}
