//go:build linux

package nettest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"

	"github.com/pion/turn/v5"
	"golang.org/x/sys/unix"
)

// ServerPort is the UDP port the Lab's STUN/TURN server listens on.
const ServerPort = 3478

// Realm is the TURN realm of the Lab's server (RFC 8489 section 9.2).
const Realm = "p2pcam.test"

// ListenPacket opens a socket inside h's namespace, as net.ListenPacket
// does in this process's own. The socket stays in that namespace for its
// life, whichever thread uses it; the caller closes it.
func (l *Lab) ListenPacket(h Host, network, address string) (net.PacketConn, error) {
	var conn net.PacketConn
	err := inNamespace(l.Namespace(h), func() error {
		var err error
		conn, err = net.ListenPacket(network, address)
		return err
	})
	return conn, err
}

// inNamespace runs fn on an OS thread switched into the named network
// namespace, and switches back. Sockets fn creates belong to that
// namespace. A thread that cannot switch back is never reused: its
// goroutine ends while still locked to it, and Go retires the thread.
func inNamespace(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer self.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		err = fn()
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// TURNServer is a STUN and TURN server (RFC 8489, RFC 8656) in a Lab's
// public network, on ServerIP:ServerPort, relaying UDP for one user with
// long-term credentials. The Lab closes it.
type TURNServer struct {
	srv         *turn.Server
	allocations atomic.Int64
	closed      atomic.Bool
}

// StartTURN starts the Lab's STUN/TURN server for user and password. It
// answers STUN binding requests from anyone. A Lab has at most one.
func (l *Lab) StartTURN(user, password string) (*TURNServer, error) {
	if user == "" || password == "" {
		return nil, errors.New("nettest: a TURN server needs a user and a password")
	}
	l.mu.Lock()
	closed, running := l.closed, len(l.servers) > 0
	l.mu.Unlock()
	if closed || running {
		return nil, errors.New("nettest: the lab is closed or already has a TURN server")
	}
	conn, err := l.ListenPacket(Public, "udp4", net.JoinHostPort(ServerIP, strconv.Itoa(ServerPort)))
	if err != nil {
		return nil, fmt.Errorf("nettest: listen for STUN/TURN: %w", err)
	}
	s := &TURNServer{}
	key := turn.GenerateAuthKey(user, Realm, password)
	s.srv, err = turn.NewServer(turn.ServerConfig{
		Realm: Realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != user {
				return "", nil, false
			}
			return user, key, true
		},
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, _, _ string, _ net.Addr, _ int) { s.allocations.Add(1) },
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: relays{ns: l.Namespace(Public)},
		}},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nettest: start TURN server: %w", err)
	}
	l.mu.Lock()
	l.servers = append(l.servers, s)
	l.mu.Unlock()
	return s, nil
}

// Allocations returns how many relay allocations clients have made so far.
func (s *TURNServer) Allocations() int { return int(s.allocations.Load()) }

// Close stops the server and frees its relays; it may be called again.
func (s *TURNServer) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	return s.srv.Close()
}

// relays opens each relay's socket on ServerIP inside the public
// namespace: pion's generators would open it in whatever namespace the
// server's goroutine runs in, which is the test machine's own.
type relays struct{ ns string }

func (relays) Validate() error { return nil }

func (r relays) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	var conn net.PacketConn
	err := inNamespace(r.ns, func() error {
		var err error
		conn, err = net.ListenPacket(conf.Network, net.JoinHostPort(ServerIP, strconv.Itoa(conf.RequestedPort)))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return conn, conn.LocalAddr(), nil
}

var errNoTCP = errors.New("nettest: the TURN server relays UDP only")

func (relays) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errNoTCP
}

func (relays) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) { return nil, errNoTCP }
