//go:build linux

// Package nettest builds a small internet out of Linux network namespaces
// for p2pcam's end-to-end tests: two homes, each a private host behind its
// own NAT router, joined by a "public" network that also holds a STUN/TURN
// server. Tests run the real p2pcam binary in the hosts (`ip netns exec`)
// and see which ICE candidate pair a call can use through the NATs.
//
// All addresses are on the documentation ranges of RFC 5737 and never leave
// the namespaces:
//
//	hosta 192.0.2.2 ── nata (lan0 192.0.2.1, wan0 198.51.100.11) ──┐
//	                                                     pub br0 198.51.100.1 (STUN/TURN :3478)
//	hostb 203.0.113.2 ── natb (lan0 203.0.113.1, wan0 198.51.100.12) ─┘
//
// Building a Lab needs root, iproute2 and nftables; New reports
// ErrUnsupported otherwise, so that a test can skip.
package nettest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Addresses of a Lab.
const (
	ServerIP = "198.51.100.1"  // the STUN/TURN server, in Public
	NATAIP   = "198.51.100.11" // the public address of HostA's NAT
	NATBIP   = "198.51.100.12" // the public address of HostB's NAT
	HostAIP  = "192.0.2.2"     // HostA's private address
	HostBIP  = "203.0.113.2"   // HostB's private address
)

// Host names one namespace of a Lab.
type Host string

// The namespaces of a Lab a test talks to. The NAT routers between them
// are internal.
const (
	Public Host = "pub"
	HostA  Host = "hosta"
	HostB  Host = "hostb"
)

const (
	natA Host = "nata"
	natB Host = "natb"
)

var allHosts = []Host{Public, natA, natB, HostA, HostB}

// NAT is how a Lab's routers map a private host's address and port to a
// public one (RFC 4787 section 4.1). Both filter inbound traffic the same
// way: only replies to what the host sent get in.
type NAT int

const (
	// Cone NATs keep one public port per private address and port,
	// whatever the destination (endpoint-independent mapping), so a STUN
	// server's view of the port is the one a peer can use.
	Cone NAT = iota + 1
	// Symmetric NATs pick a random public port for every destination, so
	// only a relay (TURN) gets a call through two of them.
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case Cone:
		return "cone"
	case Symmetric:
		return "symmetric"
	}
	return "NAT(" + strconv.Itoa(int(n)) + ")"
}

// ErrUnsupported means this machine cannot build a Lab: not root, `ip` or
// `nft` missing, or a kernel without network namespaces or nftables NAT.
var ErrUnsupported = errors.New("network namespaces with NAT are not available here")

// namePrefix starts the name of every namespace this package creates,
// followed by the creating process's id, so that leftovers of a crashed
// run can be told from namespaces in use.
const namePrefix = "p2pnt"

var (
	labSeq        atomic.Int64
	leftoversOnce sync.Once
)

// Lab is one topology, built by New and torn down by Close. Its methods
// may be called from several goroutines.
type Lab struct {
	nat    NAT
	prefix string

	mu      sync.Mutex
	created []Host
	servers []*TURNServer
	closed  bool
}

// New builds a Lab whose two routers are both of kind nat. Every Lab gets
// namespaces of its own, so Labs can be used in parallel. Before the first
// Lab, New removes namespaces left behind by test processes that have
// died. The caller must Close the Lab, also when a test fails.
func New(nat NAT) (*Lab, error) {
	if nat != Cone && nat != Symmetric {
		return nil, fmt.Errorf("nettest: unknown NAT kind %d", nat)
	}
	if err := check(); err != nil {
		return nil, err
	}
	leftoversOnce.Do(removeLeftovers)
	l := &Lab{nat: nat, prefix: fmt.Sprintf("%s%d-%d-", namePrefix, os.Getpid(), labSeq.Add(1))}
	if err := l.build(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root", ErrUnsupported)
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not installed (apt-get install iproute2 nftables)", ErrUnsupported, tool)
		}
	}
	return nil
}

// Namespace returns the name of h's network namespace, as `ip netns`
// knows it.
func (l *Lab) Namespace(h Host) string { return l.prefix + string(h) }

// Argv returns a command line that runs argv inside h's namespace.
func (l *Lab) Argv(h Host, argv ...string) []string {
	return append([]string{"ip", "netns", "exec", l.Namespace(h)}, argv...)
}

func (l *Lab) build() error {
	for _, h := range allHosts {
		if err := run(nil, "ip", "netns", "add", l.Namespace(h)); err != nil {
			if strings.Contains(err.Error(), "not supported") || strings.Contains(err.Error(), "Operation not permitted") {
				return fmt.Errorf("%w: %w", ErrUnsupported, err)
			}
			return err
		}
		l.mu.Lock()
		l.created = append(l.created, h)
		l.mu.Unlock()
		if err := l.sysctl(h, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"); err != nil {
			return err
		}
		if err := l.ip(h, "link set lo up"); err != nil {
			return err
		}
	}
	if err := l.ip(Public, "link add br0 type bridge", "addr add "+ServerIP+"/24 dev br0", "link set br0 up"); err != nil {
		return err
	}
	sides := []struct {
		nat, host   Host
		wan, lan    string // the router's public and private addresses
		hostIP, net string
	}{
		{natA, HostA, NATAIP, "192.0.2.1", HostAIP, "/24"},
		{natB, HostB, NATBIP, "203.0.113.1", HostBIP, "/24"},
	}
	for i, s := range sides {
		port := fmt.Sprintf("port%d", i)
		// Each veth end is created straight inside its namespace, so the
		// short names never meet another run's interfaces.
		if err := run(nil, "ip", "link", "add", "wan0", "netns", l.Namespace(s.nat), "type", "veth",
			"peer", "name", port, "netns", l.Namespace(Public)); err != nil {
			return err
		}
		if err := run(nil, "ip", "link", "add", "lan0", "netns", l.Namespace(s.nat), "type", "veth",
			"peer", "name", "eth0", "netns", l.Namespace(s.host)); err != nil {
			return err
		}
		if err := l.ip(Public, "link set "+port+" master br0", "link set "+port+" up"); err != nil {
			return err
		}
		if err := l.ip(s.nat,
			"addr add "+s.wan+"/24 dev wan0", "link set wan0 up",
			"addr add "+s.lan+s.net+" dev lan0", "link set lan0 up"); err != nil {
			return err
		}
		if err := l.ip(s.host,
			"addr add "+s.hostIP+s.net+" dev eth0", "link set eth0 up",
			"route add default via "+s.lan); err != nil {
			return err
		}
		if err := l.sysctl(s.nat, "net.ipv4.ip_forward=1"); err != nil {
			return err
		}
		if err := run(strings.NewReader(natRules(l.nat)), "ip", "netns", "exec", l.Namespace(s.nat), "nft", "-f", "-"); err != nil {
			return fmt.Errorf("%w: nftables NAT: %w", ErrUnsupported, err)
		}
	}
	return nil
}

// natRules is a home router's ruleset: masquerade what leaves on wan0,
// let in only replies. The input rule matters as much as the forward one:
// an early connectivity check from the other peer would otherwise leave a
// conntrack entry on the router itself that makes masquerade pick another
// port for the host's own traffic, and a cone NAT would act symmetric.
func natRules(n NAT) string {
	masq := "masquerade"
	if n == Symmetric {
		masq = "masquerade fully-random"
	}
	return `table ip p2pcam_nettest {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" ` + masq + `
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" oifname "wan0" accept
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan0" ct state new drop
	}
}
`
}

// ip runs iproute2 commands inside h's namespace in one batch.
func (l *Lab) ip(h Host, cmds ...string) error {
	return run(strings.NewReader(strings.Join(cmds, "\n")+"\n"), "ip", "-n", l.Namespace(h), "-batch", "-")
}

func (l *Lab) sysctl(h Host, settings ...string) error {
	return run(nil, append([]string{"ip", "netns", "exec", l.Namespace(h), "sysctl", "-qw"}, settings...)...)
}

func run(stdin *strings.Reader, argv ...string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Close stops the Lab's TURN servers, kills every process still running in
// its namespaces and deletes them. It returns the first failure but
// always tries every step; calling it again does nothing.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	servers, created := l.servers, l.created
	l.mu.Unlock()
	var first error
	for _, s := range servers {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	for _, h := range created {
		if err := deleteNamespace(l.Namespace(h)); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// deleteNamespace kills what runs in ns and deletes it.
func deleteNamespace(ns string) error {
	if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return run(nil, "ip", "netns", "del", ns)
}

var leftoverName = regexp.MustCompile(`^` + namePrefix + `(\d+)-\d+-[a-z]+$`)

// removeLeftovers deletes namespaces of earlier runs whose process is gone
// (a crash, or a test binary killed by its timeout). Namespaces of live
// processes, such as a parallel `go test` of another package, stay.
func removeLeftovers() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := leftoverName.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		_ = deleteNamespace(f[0])
	}
}
