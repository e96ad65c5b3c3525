// Command turnserver is a STUN and TURN server for p2pcam's tests: the NAT
// tests run it inside a network namespace playing the public internet. It
// answers STUN binding requests and relays over UDP for one user with
// long-term credentials (RFC 8656), until SIGTERM or SIGINT.
//
//	turnserver -listen 198.51.100.1:3478 -relay 198.51.100.1 -user u -pass p
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/pion/turn/v5"
)

func main() {
	listen := flag.String("listen", "", "UDP address to serve on, e.g. 198.51.100.1:3478")
	relay := flag.String("relay", "", "IP address relayed candidates get")
	user := flag.String("user", "", "TURN user name")
	pass := flag.String("pass", "", "TURN password")
	flag.Parse()
	if err := run(*listen, *relay, *user, *pass); err != nil {
		fmt.Fprintln(os.Stderr, "turnserver:", err)
		os.Exit(1)
	}
}

func run(listen, relay, user, pass string) error {
	if listen == "" || relay == "" || user == "" || pass == "" {
		return fmt.Errorf("-listen, -relay, -user and -pass are all required")
	}
	ip := net.ParseIP(relay)
	if ip == nil {
		return fmt.Errorf("bad -relay address %q", relay)
	}
	conn, err := net.ListenPacket("udp4", listen)
	if err != nil {
		return err
	}
	const realm = "p2pcam.test"
	key := turn.GenerateAuthKey(user, realm, pass)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != user {
				return "", nil, false
			}
			return user, key, true
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: ip, Address: ip.String()},
		}},
	})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return srv.Close()
}
