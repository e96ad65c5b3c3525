package cli

import (
	"errors"
	"strings"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/codecs"
	"github.com/p2pcam/p2pcam/pkg/measure"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal"
	"github.com/p2pcam/p2pcam/signal/paste"
	"github.com/p2pcam/p2pcam/signal/whip"
)

// Advice shared by several errors.
const (
	hintFreshBlobs = "blobs are good for one try: start both sides again and exchange fresh blobs (offer -> answer, then answer -> offer)"
	hintNoPath     = "the two machines found no network path to each other"
	hintSTUNTURN   = "on different networks, both sides need a STUN server (the default) and, behind strict NATs or firewalls, a TURN server: --ice-server turn:USER:PASS@HOST:3478"
	hintInterface  = "on one machine or LAN, check that --interface names an interface both can reach"
	hintHelp       = "see p2pcam --help, or p2pcam COMMAND --help"
)

// hints returns advice for errors p2pcam knows how to explain. The error
// line says what went wrong; the hints say what to do, so advice appears
// in one of the two, never both.
func hints(err error) []string {
	var (
		cte *session.ConnectTimeoutError
		ce  *codec.UnsupportedError
		se  *session.SilenceError
		fe  *capture.FileError
		cbe *capture.CameraBusyError
		cpe *capture.CameraPermissionError
	)
	var (
		ve viewError
		mf missingFolderError
	)
	if h, ok := soundHints(err); ok {
		return h
	}
	switch {
	case errors.As(err, &mf):
		return []string{"create it first (mkdir -p " + shellQuote(mf.folder) + "), or give -o a path in a folder that exists"}
	case errors.Is(err, errStdoutTerminal), errors.As(err, &ve):
		return nil // the line itself says what to do
	case isUsage(err):
		var sg suggestion
		if errors.As(err, &sg) && sg.hint != "" {
			return []string{sg.hint} // specific advice needs no general pointer
		}
		return []string{hintHelp}
	case errors.Is(err, capture.ErrTruncated):
		return []string{"the file is incomplete (an interrupted copy or recording?): copy it again, or keep its whole frames: ffmpeg -i " + fileName(err) + " -f yuv4mpegpipe WHOLE.y4m"}
	case errors.As(err, &fe):
		return []string{"make a clean Y4M from any video with ffmpeg -i IN -pix_fmt yuv420p OUT.y4m, or pipe it in: " + ffmpegPipe("IN", session.Offerer)}
	case errors.As(err, &cbe):
		if len(cbe.Holders) > 0 {
			return []string{"close that program (or stop its video) and try again; p2pcam devices lists other cameras"}
		}
		return []string{"close the program using it (a browser tab, a video app; fuser -v " + cbe.Device + " may tell which) and try again"}
	case errors.As(err, &cpe):
		g := cpe.Group
		if g == "" {
			g = "video"
		}
		return []string{"add yourself to the " + g + " group (sudo usermod -aG " + g + " $USER), then log out and in again"}
	case errors.Is(err, capture.ErrCameraGone):
		return []string{"the camera was unplugged or stopped; the recording is finalized; plug it back in and start a new call (p2pcam devices lists what is there)"}
	case errors.Is(err, capture.ErrCameraStalled):
		return []string{"the camera stopped sending pictures; replug it, or pick another mode with --width/--height/--fps or --camera-format (p2pcam devices lists them)"}
	case errors.Is(err, capture.ErrNoMode):
		return []string{"p2pcam devices lists the formats each camera offers; drop --camera-format to let p2pcam choose"}
	case errors.Is(err, session.ErrSourceFailed):
		return []string{"check that the camera is still plugged in and that no other program is using it; p2pcam devices lists what is there"}
	case errors.Is(err, capture.ErrNoCamera):
		return []string{"p2pcam devices lists the cameras found; --source test sends a synthetic pattern instead"}
	case errors.Is(err, capture.ErrBadSource):
		return []string{"p2pcam devices lists the camera names that --source camera:NAME takes; other video plays as Y4M: " + ffmpegPipe("FILE", session.Offerer)}
	case errors.Is(err, capture.ErrNoEncoder), errors.Is(err, measure.ErrNoDecoder):
		return []string{"build p2pcam with cgo and libvpx: apt-get install libvpx-dev pkg-config (brew install libvpx pkg-config), then make build"}
	case errors.As(err, &cte) && cte.Window > 0 && cte.Err == nil && !cte.Heard:
		// The answering side of a copy-paste call heard no check at all:
		// the answer never reached the offering side, or nothing can
		// cross between them. Which one, this side cannot tell.
		return []string{
			"nothing came from the other side: either the answer blob did not reach `p2pcam offer` in time, or " + hintNoPath,
			hintFreshBlobs + ", the answer within --paste-timeout",
			hintSTUNTURN,
		}
	case errors.Is(err, session.ErrConnectTimeout):
		return []string{hintNoPath, hintSTUNTURN, hintInterface}
	case errors.As(err, &se) && se.Gone != "":
		return []string{"the recording is finalized; check this machine's network (cable, Wi-Fi, VPN) and start a new call once it is back"}
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
		return []string{"the other side must be able to send or receive " + carriedCodecs()}
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
	case errors.Is(err, whip.ErrMediaRejected):
		return []string{"configure the server to accept " + carriedCodecs()}
	case errors.Is(err, signal.ErrOtherOffer):
		return []string{"paste the one `p2pcam answer` printed for this call's offer blob; an answer from an earlier try, or to another offer, does not fit"}
	case errors.Is(err, paste.ErrSecondAnswer):
		return []string{"each offer serves one answer, and this call goes on: for another viewer, run another `p2pcam offer` (or `p2pcam offer --serve` for many)"}
	case errors.Is(err, paste.ErrPasteTimeout):
		return []string{hintFreshBlobs + "; --paste-timeout gives more time"}
	}
	return signalHints(err)
}

// fileName is the name of the file a FileError in err is about ("FILE"
// when there is none).
func fileName(err error) string {
	var fe *capture.FileError
	if errors.As(err, &fe) && fe.Name != "" && fe.Name != "stdin" {
		return fe.Name
	}
	return "FILE"
}

// carriedCodecs names the codecs p2pcam sends and receives, from the
// table of package codecs: "VP8 video".
func carriedCodecs() string {
	var names []string
	for _, d := range codecs.All() {
		names = append(names, d.Name+" "+d.Kind.String())
	}
	return strings.Join(names, " or ")
}
