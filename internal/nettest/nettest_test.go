//go:build linux

package nettest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// deadline bounds every wait on a packet: long enough for a loaded machine,
// short enough that a lost packet fails the test instead of hanging it.
const deadline = 10 * time.Second

func newLab(t *testing.T, nat NAT) *Lab {
	t.Helper()
	l, err := New(nat)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("closing the lab: %v", err)
		}
	})
	return l
}

func listen(t *testing.T, l *Lab, h Host, addr string) net.PacketConn {
	t.Helper()
	c, err := l.ListenPacket(h, "udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoSource answers every packet with the address it came from, as a
// STUN server would.
func echoSource(c net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		_, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = c.WriteTo([]byte(from.String()), from)
	}
}

func readFrom(t *testing.T, c net.PacketConn) (string, net.Addr) {
	t.Helper()
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(deadline))
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no packet: %v", err)
	}
	return string(buf[:n]), from
}

func TestNATMapping(t *testing.T) {
	tests := []struct {
		nat      NAT
		samePort bool // one public port for every destination
	}{
		{Cone, true},
		{Symmetric, false},
	}
	for _, tc := range tests {
		t.Run(tc.nat.String(), func(t *testing.T) {
			t.Parallel()
			l := newLab(t, tc.nat)
			host := listen(t, l, HostA, HostAIP+":5000")
			var seen []string
			for port := 4000; port < 4003; port++ {
				echo := listen(t, l, Public, fmt.Sprintf("%s:%d", ServerIP, port))
				go echoSource(echo)
				if _, err := host.WriteTo([]byte("hi"), echo.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				mapped, _ := readFrom(t, host)
				if !strings.HasPrefix(mapped, NATAIP+":") {
					t.Fatalf("the public network saw %s; want %s:PORT", mapped, NATAIP)
				}
				seen = append(seen, mapped)
			}
			same := seen[0] == seen[1] && seen[1] == seen[2]
			if same != tc.samePort {
				t.Fatalf("%s NAT mapped one socket to %v", tc.nat, seen)
			}
		})
	}
}

// TestConeNATEarlyCheck plays ICE through a cone NAT: the host learns its
// public address from a server, the peer's first check arrives before the
// host wrote to the peer. That check must not get in, and must not move the
// host's mapping either (the input rule in natRules), or the address the
// host told the peer would be wrong.
func TestConeNATEarlyCheck(t *testing.T) {
	t.Parallel()
	l := newLab(t, Cone)
	host := listen(t, l, HostA, HostAIP+":5000")
	server := listen(t, l, Public, ServerIP+":4000")
	peer := listen(t, l, Public, ServerIP+":4001")
	go echoSource(server)
	if _, err := host.WriteTo([]byte("hi"), server.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	mapped, _ := readFrom(t, host)
	to, err := net.ResolveUDPAddr("udp4", mapped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WriteTo([]byte("early"), to); err != nil {
		t.Fatal(err)
	}
	if _, err := host.WriteTo([]byte("check"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if _, from := readFrom(t, peer); from.String() != mapped {
		t.Fatalf("the peer saw the host at %v; the server saw %s", from, mapped)
	}
	// The early check, had it got in, would be first in the queue.
	if _, err := peer.WriteTo([]byte("reply"), to); err != nil {
		t.Fatal(err)
	}
	if got, from := readFrom(t, host); got != "reply" {
		t.Fatalf("the host first got %q from %v; want the reply", got, from)
	}
}

func TestTURN(t *testing.T) {
	tests := []struct {
		name     string
		password string
		wantErr  bool
	}{
		{"right password relays", "secret", false},
		{"wrong password is refused", "guess", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, Symmetric)
			srv, err := l.StartTURN("user", "secret")
			if err != nil {
				t.Fatal(err)
			}
			server := fmt.Sprintf("%s:%d", ServerIP, ServerPort)
			c, err := turn.NewClient(&turn.ClientConfig{
				STUNServerAddr: server, TURNServerAddr: server,
				Username: "user", Password: tc.password, Realm: Realm,
				Conn: listen(t, l, HostA, HostAIP+":0"),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Listen(); err != nil {
				t.Fatal(err)
			}
			mapped, err := c.SendBindingRequest()
			if err != nil {
				t.Fatalf("STUN binding: %v", err)
			}
			if ip := mapped.(*net.UDPAddr).IP.String(); ip != NATAIP {
				t.Fatalf("STUN saw %s; want the NAT's %s", mapped, NATAIP)
			}
			relay, err := c.Allocate()
			if tc.wantErr {
				if err == nil {
					relay.Close()
					t.Fatal("allocated a relay with a wrong password")
				}
				if n := srv.Allocations(); n != 0 {
					t.Fatalf("%d allocations after a refusal", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("allocate: %v", err)
			}
			defer relay.Close()
			if ip := relay.LocalAddr().(*net.UDPAddr).IP.String(); ip != ServerIP {
				t.Fatalf("relay address %s; want one on %s", relay.LocalAddr(), ServerIP)
			}
			if n := srv.Allocations(); n != 1 {
				t.Fatalf("server counted %d allocations; want 1", n)
			}
			// Through the relay to a public echo and back.
			echo := listen(t, l, Public, ServerIP+":4000")
			go echoSource(echo)
			if _, err := relay.WriteTo([]byte("hi"), echo.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			if got, _ := readFrom(t, relay); got != relay.LocalAddr().String() {
				t.Fatalf("the echo saw the relay as %q; want %s", got, relay.LocalAddr())
			}
		})
	}
}

// TestRemovesLeftovers: namespaces of a dead test process go, those of a
// live one stay.
func TestRemovesLeftovers(t *testing.T) {
	if err := check(); err != nil {
		t.Skip(err)
	}
	// No process can have a pid above the kernel's limit (at most 2^22).
	dead := fmt.Sprintf("%s%d-1-pub", namePrefix, 1<<22+1)
	live := fmt.Sprintf("%s%d-999999-pub", namePrefix, os.Getpid())
	for _, ns := range []string{dead, live} {
		if err := run(nil, "ip", "netns", "add", ns); err != nil {
			t.Skipf("cannot create namespaces: %v", err)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	removeLeftovers()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), dead+" ") || strings.Contains(string(out), dead+"\n") {
		t.Errorf("%s was left behind", dead)
	}
	if !strings.Contains(string(out), live) {
		t.Errorf("%s of this live process was removed", live)
	}
}
