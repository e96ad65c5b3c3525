package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// meter is a receive-only pion viewer that counts what reaches it: RTP
// bytes (payload and header) and frames (marker bits).
type meter struct {
	p      *peer.Peer
	bytes  atomic.Int64
	frames atomic.Int64
	done   chan struct{}
}

func newMeter(t *testing.T, ctx context.Context, endpoint string) *meter {
	t.Helper()
	p, _ := joinWHEP(t, ctx, endpoint)
	m := &meter{p: p, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		select {
		case tr := <-p.Tracks():
			for {
				pkt, _, err := tr.Track.ReadRTP()
				if err != nil {
					return
				}
				m.bytes.Add(int64(pkt.MarshalSize()))
				if pkt.Marker {
					m.frames.Add(1)
				}
			}
		case <-ctx.Done():
		}
	}()
	return m
}

// reading is a meter's counters at one moment.
type reading struct {
	at            time.Time
	bytes, frames int64
}

func (m *meter) read() reading {
	return reading{time.Now(), m.bytes.Load(), m.frames.Load()}
}

// rate is kbit/s and fps between two readings.
func rate(a, b reading) (kbps, fps float64) {
	dt := b.at.Sub(a.at).Seconds()
	return float64(b.bytes-a.bytes) * 8 / 1000 / dt, float64(b.frames-a.frames) / dt
}

// TestSlowViewerMeasured measures issue 20's row 5: three viewers of one
// --serve at 640x480, the third throttled to 200 kbit/s (an nft policer
// on its loopback port, server to viewer) for a while. It logs each
// viewer's received kbit/s and fps before, during and after; it asserts
// nothing about speed. Set P2PCAM_SLOW_VIEWER=1 to run it (root, nft).
func TestSlowViewerMeasured(t *testing.T) {
	if os.Getenv("P2PCAM_SLOW_VIEWER") == "" {
		t.Skip("a 60 s measurement; set P2PCAM_SLOW_VIEWER=1")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
	testutil.NeedCodec(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	stats, err := os.Create(t.TempDir() + "/stats.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer stats.Close()
	ran, log := start(t, sctx, Config{
		Source:  capture.Source{Kind: capture.Test},
		Capture: capture.Options{Width: 640, Height: 480, FPS: 30},
		Stats:   stats,
	})
	ready := log.listening(t, ctx)
	ms := []*meter{newMeter(t, ctx, ready.WHEP), newMeter(t, ctx, ready.WHEP), newMeter(t, ctx, ready.WHEP)}
	slow := ms[2]
	var port int
	for port == 0 {
		if pr, ok := slow.p.SelectedPair(); ok {
			port = int(pr.Local.Port)
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the slow viewer never connected")
		case <-time.After(50 * time.Millisecond):
		}
	}
	table := fmt.Sprintf("p2pcam_slow_%d", os.Getpid())
	nft := func(script string) {
		t.Helper()
		cmd := exec.Command("nft", "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nft: %v\n%s\n%s", err, out, script)
		}
	}
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", table).Run() })

	phase := func(name string, settle, measure time.Duration) {
		t.Helper()
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		var a []reading
		for _, m := range ms {
			a = append(a, m.read())
		}
		select {
		case <-time.After(measure):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		line := name + ":"
		for i, m := range ms {
			kbps, fps := rate(a[i], m.read())
			who := "healthy"
			if m == slow {
				who = "slow"
			}
			line += fmt.Sprintf("  viewer %d (%s) %4.0f kbit/s %4.1f fps", i+1, who, kbps, fps)
		}
		t.Log(line)
	}
	phase("before", 8*time.Second, 8*time.Second)
	nft(fmt.Sprintf("add table inet %s\nadd chain inet %s out { type filter hook output priority 0; }\n"+
		"add rule inet %s out udp dport %d limit rate over 25 kbytes/second burst 8000 bytes drop\n", table, table, table, port))
	phase("during", 10*time.Second, 10*time.Second)
	nft(fmt.Sprintf("delete table inet %s\n", table))
	phase("after", 10*time.Second, 8*time.Second)

	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, m := range ms {
		m.p.Close()
		<-m.done
	}
	// The server's view, second by second: the encoder's target, and each
	// viewer's layer, estimate and send rate.
	b, err := os.ReadFile(stats.Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var sn Snapshot
		if json.Unmarshal([]byte(l), &sn) != nil || sn.Final {
			continue
		}
		line := fmt.Sprintf("t=%2.0f target %4d kbit/s:", sn.T, sn.TargetBps/1000)
		for i, v := range sn.Viewers {
			line += fmt.Sprintf("  %d: layer %d, estimate %4d, sent %4d kbit/s", i+1, v.Layer, v.TargetBps/1000, v.SendBps/1000)
		}
		t.Log(line)
	}
}
