package peer

// Following an address change without a new exchange of descriptions.
//
// When a machine's address changes in the middle of a call (a DHCP lease
// renewed with another address, a laptop moving from Wi-Fi to Ethernet, a
// VPN taking the default route), RFC 8445 §9 says to restart ICE. A
// restart needs a new offer and answer, and with p2pcam those travel only
// through a person: the call itself is the one path between the machines,
// and it is the path that just broke (pion v4.2.26 also drops the selected
// pair the moment a restart begins). pion/ice v4.4.8 can gather again when
// interfaces change (ContinualGatheringPolicy), but webrtc v4.2.26 does not
// expose it, nor the agent.
//
// What works instead, with the same ICE credentials and DTLS session:
//
//  1. Host candidates listen on the wildcard address (wildcardNet), so the
//     socket survives its address: once the machine has an address again,
//     its packets, connectivity checks (the keepalives and consent checks
//     of RFC 7675) included, leave from the new one.
//  2. The other side sees checks with valid credentials from an address it
//     does not know and learns it as a peer-reflexive candidate (RFC 8445
//     §7.3.1.3). pion keeps sending to the old address, though: a
//     controlling agent never moves off a nominated pair without
//     renomination, and a controlled one only moves when nominated.
//  3. So each side moves its selected pair itself (roamer, through pion's
//     binding request handler) when checks arrive from an address of the
//     other side that is not the selected one while the selected one has
//     been silent for roamSilence. Media follows the selected pair; the
//     other side accepts packets from any remote candidate it knows.
//
// This covers host and server-reflexive paths on either side, one side at
// a time. It cannot help when both sides change at once (neither knows
// where the other went) or on a relayed path (the TURN allocation is bound
// to the old address): those calls end by the silence rule.

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// roamSilence is how long the selected pair's remote address must have
// sent nothing before checks from another of the other side's addresses
// move the call there. A working path carries RTCP every second and a
// consent check every two; a changed address carries nothing.
const roamSilence = 2 * time.Second

// wildcardNet is the host's network with UDP sockets bound to the
// wildcard address instead of the address a host candidate names, so that
// a socket outlives its address (point 1 above). Loopback and link-local
// addresses stay bound: they do not change, and a call kept on lo stays
// there.
type wildcardNet struct{ transport.Net }

// ListenUDP implements transport.Net.
func (n wildcardNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	if laddr != nil && laddr.IP != nil && !laddr.IP.IsLoopback() && !laddr.IP.IsLinkLocalUnicast() && laddr.Zone == "" {
		wild := *laddr
		wild.IP = nil
		laddr = &wild
	}
	return n.Net.ListenUDP(network, laddr)
}

// roamer moves the selected candidate pair onto a new address of the other
// side (point 3 above). Its methods run on pion's goroutines and never
// block.
type roamer struct {
	changed chan Pair // the selected pair after each change once connected

	mu        sync.Mutex
	selected  string        // the selected pair's remote address, "" before connecting
	selRemote ice.Candidate // its candidate, once a check came from it
	connected bool          // a pair was selected once: later changes are moves
}

func newRoamer() *roamer { return &roamer{changed: make(chan Pair, 4)} }

func candidateKey(address string, port int) string {
	return net.JoinHostPort(address, fmt.Sprint(port))
}

// onBindingRequest is pion's binding request handler: it returns true to
// make the pair the request arrived on the selected one.
func (r *roamer) onBindingRequest(_ *stun.Message, _, remote ice.Candidate, _ *ice.CandidatePair) bool {
	key := candidateKey(remote.Address(), remote.Port())
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.selected == "":
		return false
	case key == r.selected:
		r.selRemote = remote
		return false
	case r.selRemote == nil || time.Since(r.selRemote.LastReceived()) < roamSilence:
		return false
	}
	// The old address went quiet and the other side checks from a new
	// one: follow it. Record it at once, so that the next check on it
	// does not count as another move.
	r.selected, r.selRemote = key, remote
	return true
}

// onSelected notes the pair ICE selected and, after the first, reports
// the move on changed (dropping it when nobody reads).
func (r *roamer) onSelected(cp *webrtc.ICECandidatePair) {
	if cp == nil || cp.Local == nil || cp.Remote == nil {
		return
	}
	key := candidateKey(cp.Remote.Address, int(cp.Remote.Port))
	r.mu.Lock()
	if key != r.selected {
		r.selected, r.selRemote = key, nil
	}
	moved := r.connected
	r.connected = true
	r.mu.Unlock()
	if moved {
		select {
		case r.changed <- Pair{Local: *cp.Local, Remote: *cp.Remote}:
		default:
		}
	}
}

// Moves delivers the candidate pair the call moved to each time it moves
// after connecting: one side's address changed and the call followed it.
// It buffers a few; the channel is never closed.
func (p *Peer) Moves() <-chan Pair { return p.roam.changed }

// roaming sets se up to follow address changes: on the host's network (a
// test's virtual one is left alone), host sockets bound to the wildcard
// address, and the roamer deciding on binding requests.
func (p *Peer) roaming(se *webrtc.SettingEngine) error {
	p.roam = newRoamer()
	if p.cfg.network == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return fmt.Errorf("open the host's network: %w", err)
		}
		se.SetNet(wildcardNet{n})
	}
	se.SetICEBindingRequestHandler(p.roam.onBindingRequest)
	return nil
}

// watchPairs lets the roamer see each selected pair.
func (p *Peer) watchPairs() {
	if sctp := p.pc.SCTP(); sctp != nil && sctp.Transport() != nil && sctp.Transport().ICETransport() != nil {
		sctp.Transport().ICETransport().OnSelectedCandidatePairChange(p.roam.onSelected)
	}
}
