package peer

import (
	"slices"
	"time"

	"github.com/pion/webrtc/v4"
)

// RoundTrip returns the current round-trip time of the selected ICE
// candidate pair, measured by ICE's own keepalive checks, or 0 before one
// was measured. Both sides of a call have it, whoever sends media.
func (p *Peer) RoundTrip() time.Duration {
	sctp := p.pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return 0
	}
	st, ok := sctp.Transport().ICETransport().GetSelectedCandidatePairStats()
	if !ok {
		return 0
	}
	return time.Duration(st.CurrentRoundTripTime * float64(time.Second))
}

// Descriptions returns the local and remote session descriptions applied
// so far (zero values before they are).
func (p *Peer) Descriptions() (local, remote webrtc.SessionDescription) {
	if d := p.pc.CurrentLocalDescription(); d != nil {
		local = *d
	} else if d := p.pc.LocalDescription(); d != nil {
		local = *d
	}
	if d := p.pc.CurrentRemoteDescription(); d != nil {
		remote = *d
	} else if d := p.pc.RemoteDescription(); d != nil {
		remote = *d
	}
	return local, remote
}

// RemoteSSRCs returns the SSRCs of the remote tracks that have arrived,
// in the order they did.
func (p *Peer) RemoteSSRCs() []uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.remoteSSR)
}

// State returns the current connection state.
func (p *Peer) State() webrtc.PeerConnectionState { return p.pc.ConnectionState() }
