package cli

import (
	"errors"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// hints returns advice for errors p2pcam knows how to explain.
func hints(err error) []string {
	switch {
	case isUsage(err):
		return []string{"see p2pcam --help, or p2pcam COMMAND --help"}
	case errors.Is(err, session.ErrSourceFailed):
		return []string{"check that the camera is still plugged in and that no other program is using it; p2pcam devices lists what is there"}
	case errors.Is(err, capture.ErrNoCamera):
		return []string{"p2pcam devices lists the cameras found; --source test sends a synthetic pattern instead"}
	case errors.Is(err, session.ErrAnswerNotUsed):
		return []string{"blobs are good for one try: start over with a new `p2pcam offer`, paste its blob into a new `p2pcam answer`, and paste the answer back within --paste-timeout"}
	case errors.Is(err, session.ErrConnectTimeout):
		return []string{
			"the two machines found no network path to each other",
			"on different networks, both sides need a STUN server (the default) and, behind strict NATs or firewalls, a TURN server: --ice-server turn:USER:PASS@HOST:3478",
			"on one machine or LAN, check that --interface names an interface both can reach",
		}
	case errors.Is(err, session.ErrPasteTimeout):
		return []string{"blobs are good for one try: start both sides again and exchange fresh blobs (offer -> answer, then answer -> offer); --paste-timeout gives more time"}
	case errors.Is(err, peer.ErrNoCommonCodec):
		return []string{"the other side must be able to send or receive VP8 video"}
	}
	return signalHints(err)
}
