package testutil

import (
	"net"
	"testing"
)

// ClosedAddr returns a loopback host:port that nothing listens on: a
// port the system handed out and that was closed again at once, so that
// connecting to it is refused.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
