package cli

import (
	"errors"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/measure"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal"
	"github.com/p2pcam/p2pcam/signal/whip"
)

// Advice shared by several errors.
const (
	hintFreshBlobs = "blobs are good for one try: start both sides again and exchange fresh blobs (offer -> answer, then answer -> offer)"
	hintNoPath     = "the two machines found no network path to each other"
	hintSTUNTURN   = "on different networks, both sides need a STUN server (the default) and, behind strict NATs or firewalls, a TURN server: --ice-server turn:USER:PASS@HOST:3478"
	hintInterface  = "on one machine or LAN, check that --interface names an interface both can reach"
)

// hints returns advice for errors p2pcam knows how to explain. The error
// line says what went wrong; the hints say what to do, so advice appears
// in one of the two, never both.
func hints(err error) []string {
	var (
		cte *session.ConnectTimeoutError
		ce  *session.CodecError
		se  *session.SilenceError
	)
	var ve viewError
	switch {
	case errors.Is(err, errStdoutTerminal), errors.As(err, &ve):
		return nil // the line itself says what to do
	case isUsage(err):
		return []string{"see p2pcam --help, or p2pcam COMMAND --help"}
	case errors.Is(err, session.ErrSourceFailed):
		return []string{"check that the camera is still plugged in and that no other program is using it; p2pcam devices lists what is there"}
	case errors.Is(err, capture.ErrNoCamera):
		return []string{"p2pcam devices lists the cameras found; --source test sends a synthetic pattern instead"}
	case errors.Is(err, capture.ErrBadSource):
		return []string{"p2pcam devices lists the camera names that --source camera:NAME takes"}
	case errors.Is(err, capture.ErrNoEncoder), errors.Is(err, measure.ErrNoDecoder):
		return []string{"build p2pcam with cgo and libvpx: apt-get install libvpx-dev pkg-config (brew install libvpx pkg-config), then make build"}
	case errors.As(err, &cte) && cte.Window > 0 && cte.Err == nil:
		// The answering side of a copy-paste call: most often the answer
		// never reached the offering side.
		return []string{
			"the answer blob was probably not pasted into `p2pcam offer` in time; " + hintFreshBlobs + ", within --paste-timeout",
			"if it was pasted, " + hintNoPath + ": " + hintSTUNTURN,
		}
	case errors.Is(err, session.ErrConnectTimeout):
		return []string{hintNoPath, hintSTUNTURN, hintInterface}
	case errors.As(err, &se):
		return []string{"the recording is finalized; start a new call once the other side is back (--silence-timeout sets how long a silence is borne)"}
	case errors.Is(err, session.ErrConnectionLost):
		return []string{"the other machine went away or its network changed; start a new call"}
	case errors.Is(err, session.ErrOutputExists):
		return []string{"give -o another name, or add --force to overwrite it"}
	case errors.Is(err, session.ErrViewer):
		return []string{"the player's last words are above; -v logs more, and --view can be left out to record with -o FILE instead"}
	case errors.Is(err, session.ErrRecording):
		return []string{"check the free space and permissions where -o writes, or that the program reading -o - is still running"}
	case errors.As(err, &ce), errors.Is(err, peer.ErrNoCommonCodec):
		return []string{"the other side must be able to send or receive VP8 video"}
	case errors.Is(err, whip.ErrUnauthorized):
		return []string{"check the token: --bearer TOKEN, or $" + bearerEnv + " in the environment"}
	case errors.Is(err, whip.ErrNotFound):
		return []string{"check the path in the URL; to play (--whep), something must be publishing on that stream"}
	case errors.Is(err, whip.ErrConflict):
		return []string{"another publisher holds that stream: pick another path, or stop the other one"}
	case errors.Is(err, whip.ErrServer), errors.Is(err, whip.ErrProtocol):
		return []string{"the server failed to answer as WHIP/WHEP asks: check its log, or try again"}
	case errors.Is(err, whip.ErrUnreachable):
		return []string{"check the host and port in the URL, and that the server is running"}
	case errors.Is(err, whip.ErrTLS):
		return []string{"check the URL's scheme (http:// or https://) and that this machine trusts the server's certificate"}
	case errors.Is(err, whip.ErrVideoRejected):
		return []string{"configure the server to accept VP8 video"}
	case errors.Is(err, signal.ErrPasteTimeout):
		return []string{hintFreshBlobs + "; --paste-timeout gives more time"}
	}
	return signalHints(err)
}
