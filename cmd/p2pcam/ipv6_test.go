package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// TestIPv6RouteIsBracketed makes a call over IPv6 only, between two
// network namespaces joined by a veth pair with fd00::1 and fd00::2 (no
// IPv4, no link-local address), and checks the route each side prints:
// IPv6 hosts in brackets, [fd00::1]:PORT, so the port does not read as
// part of the address.
func TestIPv6RouteIsBracketed(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	ns := [2]string{fmt.Sprintf("p6a%d", os.Getpid()), fmt.Sprintf("p6b%d", os.Getpid())}
	dev := [2]string{"v6a", "v6b"}
	addr := [2]string{"fd00::1", "fd00::2"}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %q: %v\n%s", args, err, out)
		}
	}
	for _, n := range ns {
		ip("netns", "add", n)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n).Run() })
	}
	ip("link", "add", dev[0], "netns", ns[0], "type", "veth", "peer", "name", dev[1], "netns", ns[1])
	for i := range ns {
		// No link-local address: the one route is fd00::/64.
		ip("netns", "exec", ns[i], "sysctl", "-qw", "net.ipv6.conf."+dev[i]+".addr_gen_mode=1")
		ip("-n", ns[i], "addr", "add", addr[i]+"/64", "dev", dev[i], "nodad")
		ip("-n", ns[i], "link", "set", dev[i], "up")
	}
	in := func(n string) func([]string) []string {
		return func(argv []string) []string { return append([]string{"ip", "netns", "exec", n}, argv...) }
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer, answer := call(t, ctx, callSpec{
		offerArgs: []string{"offer", "--source", "test", "--width", "320", "--height", "240", "--duration", "2s",
			"--ice-server", "none", "--interface", dev[0]},
		answerArgs: []string{"answer", "-o", "none", "--source", "test", "--width", "320", "--height", "240",
			"--ice-server", "none", "--interface", dev[1]},
		offerIn:  in(ns[0]),
		answerIn: in(ns[1]),
	})
	for i, p := range []*proc{offer, answer} {
		_, line := waitConnected(ctx, p)
		want := regexp.MustCompile(`^connected over host/udp \[` + regexp.QuoteMeta(addr[i]) + `\]:\d+ <-> \[` + regexp.QuoteMeta(addr[1-i]) + `\]:\d+$`)
		if !want.MatchString(line) {
			t.Errorf("%s: %q, want %v", p.name, line, want)
		}
	}
	waitOK(ctx, offer, answer)
}
