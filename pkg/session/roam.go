package session

import "github.com/p2pcam/p2pcam/pkg/peer"

// Moved: the call moved onto another candidate pair after connecting,
// because one side's address changed (a renewed lease, another network, a
// VPN) and the call followed it, with the same DTLS session and without a
// new exchange of descriptions (see pkg/peer/roam.go).
type Moved struct{ Pair peer.Pair }

func (Moved) event() {}
