package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// The soak runs: half-minute calls over an impaired link, p2pcam's own
// sender against Chromium's, both into `p2pcam answer --measure`, which
// reads the same glass-to-glass figures from either (the browser's page
// paints p2pcam's pattern stamps). They take minutes, so they run only
// with P2PCAM_SOAK=1 (`make soak`) and print a table; they assert that
// video flowed, not how fast: the figures are for the closing notes.
//
// The topology is newBrowserNet's: the sender in a namespace of its own,
// the receiver here, one veth pair between them. A rate cap is tc's tbf
// on the sender's end (as a home uplink); loss is an nft rule on the
// receiver's end of the pair, from 10 s to 20 s into the call.

// soakCase is one impairment.
type soakCase struct {
	name    string
	rate    string // tbf rate, "" for none
	lossPct int    // random loss from lossFrom to lossTo
}

const (
	soakRun      = 35 * time.Second
	soakSettled  = 10.0 // seconds: figures of a capped link from here on
	soakLossFrom = 10.0
	soakLossTo   = 20.0
	soakOnset    = 5.0 // the freeze at onset is the freeze in the first 5 s
)

// soakFigures is what one run measured, from the receiver's --stats.
type soakFigures struct {
	sender, impairment string
	rate               int     // median receive rate once settled, bits/s
	target             int     // the sender's median target once settled (p2pcam's target, Chromium's targetBitrate)
	p50, p95, worst95  float64 // medians of each second's glass-to-glass p50 and p95, and the worst second's p95, ms
	onsetFreeze        float64 // ms frozen in the first soakOnset seconds
	recovery           float64 // seconds from the loss's end until the rate is back at 90% of its rate before; -1 never
	lowest             int     // the lowest receive rate during the loss
	frames             int
}

func TestSoak(t *testing.T) {
	if os.Getenv("P2PCAM_SOAK") != "1" {
		t.Skip("long impairment runs: make soak (P2PCAM_SOAK=1)")
	}
	testutil.NeedFFmpeg(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (apt-get install -y nftables)")
	}
	cases := []soakCase{
		{name: "tbf 300kbit", rate: "300kbit"},
		{name: "tbf 1mbit", rate: "1mbit"},
		{name: "15% loss 10-20 s", lossPct: 15},
	}
	var table []soakFigures
	for _, sender := range []string{"p2pcam", "chromium"} {
		for _, sc := range cases {
			t.Run(sender+"/"+sc.name, func(t *testing.T) {
				f := soakRunOne(t, sender, sc)
				t.Logf("%+v", f)
				table = append(table, f)
			})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| sender | link | settled receive rate | sender's target | glass-to-glass p50 / p95 (worst s) | frozen in first 5 s | back at 90%% after loss | lowest rate in loss |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range table {
		rec, low := "", ""
		if f.impairment == cases[2].name {
			rec, low = fmt.Sprintf("%.0f s", f.recovery), fmt.Sprintf("%d k", f.lowest/1000)
			if f.recovery < 0 {
				rec = "not in the run"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %d k | %d k | %.0f / %.0f (%.0f) ms | %.0f ms | %s | %s |\n",
			f.sender, f.impairment, f.rate/1000, f.target/1000, f.p50, f.p95, f.worst95, f.onsetFreeze, rec, low)
	}
	t.Log(b.String())
}

// soakRunOne runs one call of soakRun from sender over sc and returns its
// figures.
func soakRunOne(t *testing.T, sender string, sc soakCase) soakFigures {
	bn := newBrowserNet(t)
	if sc.rate != "" {
		if out, err := exec.Command("ip", "netns", "exec", bn.ns, "tc", "qdisc", "replace", "dev", "eth0", "root",
			"tbf", "rate", sc.rate, "burst", "32kbit", "latency", "400ms").CombinedOutput(); err != nil {
			t.Skipf("tbf unavailable: %v\n%s", err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), soakRun+60*time.Second)
	defer cancel()
	dir := t.TempDir()
	stats := filepath.Join(dir, "answer.jsonl")
	answerArgs := []string{"answer", "--measure", "--stats", stats, "-o", filepath.Join(dir, "soak.webm"),
		"--ice-server", "none", "--interface", bn.hostIf}
	if sc.lossPct > 0 {
		go soakLoss(t, ctx, bn, stats, sc.lossPct)
	}
	var targets []int
	switch sender {
	case "p2pcam":
		offerStats := filepath.Join(dir, "offer.jsonl")
		offer, answer := call(t, ctx, callSpec{
			offerArgs: []string{"offer", "--source", "test", "--width", "640", "--height", "480", "--bitrate", "2.5M",
				"--duration", soakRun.String(), "--ice-server", "none", "--interface", "eth0", "--stats", offerStats, "-v"},
			answerArgs: answerArgs,
			offerIn:    func(argv []string) []string { return append([]string{"ip", "netns", "exec", bn.ns}, argv...) },
		})
		waitOK(ctx, offer, answer)
		if logs := os.Getenv("P2PCAM_SOAK_LOGS"); logs != "" {
			name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
			_ = os.WriteFile(filepath.Join(logs, name+".offer.log"), []byte(offer.errText()), 0o644)
		}
		for _, s := range readStats(t, offerStats) {
			if !s.Final && s.T >= soakSettled {
				targets = append(targets, s.TargetBps)
			}
		}
	case "chromium":
		b := startBrowser(t, "soak.html", bn)
		answer := start(t, ctx, "answer", false, append(answerArgs, "--duration", soakRun.String())...)
		answer.paste(b.pageBlob(ctx))
		b.setRemote(answer.blob(ctx))
		if code := answer.wait(ctx); code != 0 {
			t.Fatalf("answer exited %d\n%s\npage:\n%s", code, answer.errText(), b.log())
		}
		for len(b.stats) > 0 {
			st := <-b.stats
			if tt, _ := st["t"].(float64); tt >= soakSettled {
				if v, ok := st["target_bps"].(float64); ok {
					targets = append(targets, int(v))
				}
			}
		}
	}
	return soakJudge(t, sender, sc, readStats(t, stats), targets)
}

// soakLoss drops lossPct of the video arriving from the sender's namespace
// while the receiver's stats say the call is between soakLossFrom and
// soakLossTo seconds old. The rule lives in a table of its own, on the
// pair's interface only, and goes when the test ends.
func soakLoss(t *testing.T, ctx context.Context, bn browserNet, stats string, lossPct int) {
	table := fmt.Sprintf("p2psoak%d", os.Getpid()%100000)
	nft := func(script string) {
		cmd := exec.Command("nft", "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("nft: %v\n%s", err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", table).Run() })
	on := false
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b, _ := os.ReadFile(stats)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var age float64
		if _, err := fmt.Sscanf(lines[len(lines)-1], `{"t":%g`, &age); err != nil {
			continue
		}
		switch {
		case !on && age >= soakLossFrom:
			nft(fmt.Sprintf("table inet %s {\n chain in {\n  type filter hook input priority 0; policy accept;\n  iifname %q udp length > 200 numgen random mod 100 < %d drop\n }\n}\n", table, bn.hostIf, lossPct))
			on = true
		case on && age >= soakLossTo:
			nft(fmt.Sprintf("delete table inet %s", table))
			return
		}
	}
}

// soakJudge turns the receiver's per-second stats into the figures.
func soakJudge(t *testing.T, sender string, sc soakCase, recv []statsLine, targets []int) soakFigures {
	t.Helper()
	f := soakFigures{sender: sender, impairment: sc.name, recovery: -1, target: medianInt(targets)}
	var rates, before []int
	var p50s, p95s []float64
	for _, s := range recv {
		if s.Final {
			continue
		}
		if s.T <= soakOnset {
			f.onsetFreeze = s.Frozen
		}
		if s.T >= soakSettled {
			rates = append(rates, s.RecvBps)
			if s.P50 > 0 {
				p50s, p95s = append(p50s, s.P50), append(p95s, s.P95)
			}
		}
		if s.T >= soakLossFrom-5 && s.T < soakLossFrom {
			before = append(before, s.RecvBps)
		}
	}
	f.rate = medianInt(rates)
	if len(p95s) > 0 {
		f.p50, f.p95, f.worst95 = medianFloat(p50s), medianFloat(p95s), slices.Max(p95s)
	}
	if sc.lossPct > 0 {
		f.lowest = -1
		want := medianInt(before) * 9 / 10
		for _, s := range recv {
			if s.Final {
				continue
			}
			if s.T >= soakLossFrom+1 && s.T < soakLossTo && (f.lowest < 0 || s.RecvBps < f.lowest) {
				f.lowest = s.RecvBps
			}
			if s.T > soakLossTo && f.recovery < 0 && s.RecvBps >= want {
				f.recovery = s.T - soakLossTo
			}
		}
		f.rate = medianInt(before)
	}
	if final := recv[len(recv)-1]; final.Final {
		f.frames = final.Frames
	}
	if f.frames < 300 {
		t.Errorf("only %d frames arrived in %v", f.frames, soakRun)
	}
	return f
}

func medianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	return slices.Sorted(slices.Values(v))[len(v)/2]
}

func medianFloat(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Sorted(slices.Values(v))[len(v)/2]
}
