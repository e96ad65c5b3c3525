package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// natLab is a small internet in network namespaces, all on documentation
// ranges (RFC 5737) that never leave them: a "public" network
// 198.51.100.0/24 with a STUN/TURN server on .1, and two homes, each a
// private host behind its own NAT (192.0.2.0/24 and 203.0.113.0/24).
type natLab struct {
	t      *testing.T
	prefix string
}

func (l *natLab) ns(name string) string { return l.prefix + name }

// newNATLab builds the lab; symmetric NATs map every destination to a new
// port (nftables masquerade fully-random), cone NATs keep one mapping.
func newNATLab(t *testing.T, symmetric bool) *natLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install -y iproute2 nftables)", tool)
		}
	}
	l := &natLab{t: t, prefix: fmt.Sprintf("p2pn%d", os.Getpid()%100000)}
	names := []string{"pub", "nata", "natb", "hosta", "hostb"}
	for _, n := range names {
		_ = exec.Command("ip", "netns", "del", l.ns(n)).Run() // leftovers of a crashed run
	}
	t.Cleanup(func() {
		for _, n := range names {
			if out, err := exec.Command("ip", "netns", "pids", l.ns(n)).Output(); err == nil {
				for _, pid := range strings.Fields(string(out)) {
					_ = exec.Command("kill", "-9", pid).Run()
				}
			}
			_ = exec.Command("ip", "netns", "del", l.ns(n)).Run()
		}
	})
	for _, n := range names {
		l.run("ip", "netns", "add", l.ns(n))
		l.in(n, "ip", "link", "set", "lo", "up")
		l.in(n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	}
	l.in("pub", "ip", "link", "add", "br0", "type", "bridge")
	l.in("pub", "ip", "addr", "add", "198.51.100.1/24", "dev", "br0")
	l.in("pub", "ip", "link", "set", "br0", "up")
	masq := "masquerade"
	if symmetric {
		masq = "masquerade fully-random"
	}
	for i, side := range []struct{ nat, host, lan string }{{"nata", "hosta", "192.0.2"}, {"natb", "hostb", "203.0.113"}} {
		port := fmt.Sprintf("p%d", i)
		l.run("ip", "link", "add", "wan0", "netns", l.ns(side.nat), "type", "veth", "peer", "name", port, "netns", l.ns("pub"))
		l.in("pub", "ip", "link", "set", port, "master", "br0", "up")
		l.in(side.nat, "ip", "addr", "add", fmt.Sprintf("198.51.100.%d/24", 11+i), "dev", "wan0")
		l.in(side.nat, "ip", "link", "set", "wan0", "up")
		l.run("ip", "link", "add", "lan0", "netns", l.ns(side.nat), "type", "veth", "peer", "name", "eth0", "netns", l.ns(side.host))
		l.in(side.nat, "ip", "addr", "add", side.lan+".1/24", "dev", "lan0")
		l.in(side.nat, "ip", "link", "set", "lan0", "up")
		l.in(side.host, "ip", "addr", "add", side.lan+".2/24", "dev", "eth0")
		l.in(side.host, "ip", "link", "set", "eth0", "up")
		l.in(side.host, "ip", "route", "add", "default", "via", side.lan+".1")
		l.in(side.nat, "sysctl", "-qw", "net.ipv4.ip_forward=1")
		// New connections from the outside are dropped, as a home router
		// does; without it an early check from the other side creates a
		// conntrack entry that makes masquerade pick another port.
		rules := fmt.Sprintf(`table ip p2pcamnat {
	chain nat_post { type nat hook postrouting priority srcnat; oifname "wan0" %s; }
	chain filter_forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" oifname "wan0" accept
	}
	chain filter_input { type filter hook input priority filter; policy accept; iifname "wan0" ct state new drop; }
}`, masq)
		cmd := exec.Command("ip", "netns", "exec", l.ns(side.nat), "nft", "-f", "-")
		cmd.Stdin = strings.NewReader(rules)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("nftables NAT unavailable: %v\n%s", err, out)
		}
	}
	return l
}

func (l *natLab) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (l *natLab) in(ns string, args ...string) {
	l.t.Helper()
	l.run(append([]string{"ip", "netns", "exec", l.ns(ns)}, args...)...)
}

var (
	turnOnce sync.Once
	turnBin  string
	turnErr  error
)

// startTURN builds internal/turnserver once and runs it in the public
// network with user u, password p.
func (l *natLab) startTURN(ctx context.Context) {
	l.t.Helper()
	turnOnce.Do(func() {
		turnBin = filepath.Join(filepath.Dir(binPath), "turnserver")
		out, err := exec.Command("go", "build", "-o", turnBin, "../../internal/turnserver").CombinedOutput()
		if err != nil {
			turnErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if turnErr != nil {
		l.t.Fatalf("building the TURN server: %v", turnErr)
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", l.ns("pub"), turnBin,
		"-listen", "198.51.100.1:3478", "-relay", "198.51.100.1", "-user", "u", "-pass", "p")
	out, err := cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ready <- sc.Scan() && sc.Text() == "ready"
	}()
	select {
	case ok := <-ready:
		if !ok {
			l.t.Fatal("the TURN server did not start")
		}
	case <-ctx.Done():
		l.t.Fatal("the TURN server did not start in time")
	}
}

// call runs offer on host A and answer on host B with the given ICE
// flags, and returns both processes after the blobs were exchanged, and
// the answer's recording.
func (l *natLab) call(ctx context.Context, ice []string, extra ...string) (offer, answer *proc, recording string) {
	l.t.Helper()
	recording = filepath.Join(l.t.TempDir(), "nat.webm")
	args := append([]string{"--interface", "eth0"}, ice...)
	offer = startArgv(l.t, ctx, "offer", false, append(append([]string{"ip", "netns", "exec", l.ns("hosta"), binPath, "offer",
		"--source", "test", "--width", "320", "--height", "240", "--duration", "2s"}, args...), extra...))
	answer = startArgv(l.t, ctx, "answer", false, append([]string{"ip", "netns", "exec", l.ns("hostb"), binPath, "answer",
		"-o", recording}, args...))
	answer.paste(offer.blob(ctx))
	offer.paste(answer.blob(ctx))
	return offer, answer, recording
}

func TestThroughNATs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a network of namespaces per case")
	}
	needFFmpeg(t)
	tests := []struct {
		name      string
		symmetric bool
		ice       []string
		wantPair  []string // acceptable pair kinds on the offer side
	}{
		{"cone NATs, STUN", false, []string{"--ice-server", "stun:198.51.100.1:3478"}, []string{"srflx/udp", "prflx/udp"}},
		{"symmetric NATs, TURN", true, []string{"--ice-server", "turn:u:p@198.51.100.1:3478"}, []string{"relay/udp"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newNATLab(t, tc.symmetric)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			l.startTURN(ctx)
			offer, answer, recording := l.call(ctx, tc.ice)
			if code := offer.wait(ctx); code != 0 {
				t.Fatalf("offer exited %d\n%s", code, offer.errText())
			}
			if code := answer.wait(ctx); code != 0 {
				t.Fatalf("answer exited %d\n%s", code, answer.errText())
			}
			ok := false
			for _, k := range tc.wantPair {
				ok = ok || strings.Contains(offer.errText(), "connected over "+k)
			}
			if !ok {
				t.Fatalf("offer did not connect over %v:\n%s", tc.wantPair, offer.errText())
			}
			codec, w, h, frames := probe(t, recording)
			if codec != "vp8" || w != 320 || h != 240 || frames < 30 {
				t.Fatalf("recording through the NATs: %s %dx%d %d frames", codec, w, h, frames)
			}
			t.Logf("%s: %s", tc.name, firstLine(offer.errText(), "connected over"))
		})
	}
}

// TestNoPathGivesAdvice: behind NATs with no STUN or TURN server there is
// no path; the offer must give up at --connect-timeout with advice.
func TestNoPathGivesAdvice(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the connect timeout")
	}
	l := newNATLab(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, _, _ := l.call(ctx, []string{"--ice-server", "none"}, "--connect-timeout", "6s")
	if code := offer.wait(ctx); code != 1 {
		t.Fatalf("offer exited %d; want 1\n%s", code, offer.errText())
	}
	for _, want := range []string{"p2pcam: no connection within 6s", "p2pcam: hint: ", "TURN server"} {
		if !strings.Contains(offer.errText(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, offer.errText())
		}
	}
}

func firstLine(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
