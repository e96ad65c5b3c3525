package session

import (
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// Event is something a session reports while it runs, for the caller to
// show a person (or a test to check). Events reach the handler from one
// goroutine of the session's, one at a time and in the order they
// happened, and all of them before Run returns; a slow handler delays
// later events, never the call.
type Event interface{ event() }

// Connecting: the descriptions have met; the session waits until Deadline
// for the connection. Window is the part of that wait granted to the other
// side for applying this side's description (0 when it is applied at once).
type Connecting struct {
	Deadline time.Time
	Window   time.Duration
}

// Applied: the other side's connectivity checks arrived, so it has
// applied this side's description; what is left of its window is dropped
// and the session now waits until Deadline, the connect timeout from now.
type Applied struct{ Deadline time.Time }

// CameraOpened: the camera Name was opened in Mode (what was asked is
// Mode.Asked).
type CameraOpened struct {
	Name string
	Mode capture.ModeChoice
}

// MicrophoneOpened: the sound comes from the microphone Mic (the twin of
// CameraOpened).
type MicrophoneOpened struct{ Mic capture.Microphone }

// SoundStopped: the sound source failed during the call (a microphone
// unplugged, the sound server gone), for Err; the video goes on.
type SoundStopped struct{ Err error }

// SoundRefused: the other side's sound is in Codec (its rtpmap, e.g.
// "opus/16000/1"), which p2pcam can neither take nor send it; the call
// goes on without sound either way.
type SoundRefused struct{ Codec string }

// StateChanged: the connection moved to State (other than connected, which
// Connected reports).
type StateChanged struct{ State webrtc.PeerConnectionState }

// Connected: the connection is up, over Pair when Known.
type Connected struct {
	Pair  peer.Pair
	Known bool
}

// Lost: a connected call lost its path at Since (nothing came for a few
// seconds); it ends at Deadline unless the other side comes back.
type Lost struct {
	Since, Deadline time.Time
	// Gone is this machine's address the call used when it is no longer
	// there (the network changed here); "" otherwise.
	Gone string
}

// Back: the path came back, After it was lost.
type Back struct{ After time.Duration }

// Verification: the code both sides derive from the two DTLS
// fingerprints, for the people to compare (RFC 8122 §5).
type Verification struct{ Code string }

// Recording: the remote video is being written to Output ("-": the
// session's OutputTo).
type Recording struct{ Output string }

// FirstFrame: the first frame of Width×Height video arrived, After the
// connection came up.
type FirstFrame struct {
	Width, Height int
	After         time.Duration
}

// Figures: the call's figures over the last second, once a second.
type Figures struct{ Snapshot Snapshot }

// Ending: the call ends normally, for Reason. When the other side hung
// up (EndHungUp), Remote is what it said about why.
type Ending struct {
	Reason EndReason
	Remote HangUp
}

// Summary: the call is over; Final are its whole-call figures.
type Summary struct {
	Final  Snapshot
	Result Result
}

// EndReason says why a call ended without an error.
type EndReason int

// Reasons a call ends normally.
const (
	EndInterrupted  EndReason = iota // the caller's context was cancelled
	EndDuration                      // Config.Duration passed
	EndHungUp                        // the other side hung up
	EndOutputClosed                  // the reader of the video (a player on a pipe) went away
	EndSourceEnded                   // a streamed source (a pipe) came to its end
	EndViewerClosed                  // the person closed the viewer (Config.View)
)

// Why is the reason one side gives the other when it ends the call: a
// short code, machine-readable, carried in the reason field of its RTCP
// BYE (RFC 3550 §6.6) with an optional detail after ": ", e.g.
// "recording-failed: no space left on device".
type Why string

// Reasons a side gives when it ends the call.
const (
	WhyHangUp       Why = "hang up"          // no reason given: a plain close, or an older p2pcam
	WhyInterrupted  Why = "interrupted"      // its caller's context was cancelled (Ctrl-C, a stop signal)
	WhyDuration     Why = "duration"         // its Config.Duration passed
	WhyOutputClosed Why = "output-closed"    // the reader of its video went away
	WhyRecording    Why = "recording-failed" // writing the video failed; Detail: the system's reason
	WhySource       Why = "source-failed"    // its camera or file stopped
	WhySound        Why = "sound-failed"     // its microphone stopped, and it sent nothing else
	WhySourceEnded  Why = "source-ended"     // its streamed source (a pipe) came to its end
	WhyViewerClosed Why = "viewer-closed"    // the person there closed its viewer window
	WhyViewer       Why = "viewer-failed"    // its viewer window failed
	WhySilence      Why = "silence"          // it heard nothing from this side for its tolerance
	WhyLost         Why = "connection-lost"  // its connection failed
	WhyError        Why = "error"            // another failure
)

// HangUp is what the other side said when it ended the call: Why, and
// for some reasons a Detail (a recording failure's system error). Why is
// WhyHangUp when it said nothing more, and kept as received when it is
// none of the codes above (a newer p2pcam).
type HangUp struct {
	Why    Why
	Detail string
}

// String formats h as a BYE reason.
func (h HangUp) String() string {
	if h.Detail == "" {
		return string(h.Why)
	}
	return string(h.Why) + ": " + h.Detail
}

// parseHangUp reads a BYE reason written by HangUp.String.
func parseHangUp(reason string) HangUp {
	if reason == "" {
		return HangUp{Why: WhyHangUp}
	}
	why, detail, _ := strings.Cut(reason, ": ")
	return HangUp{Why: Why(why), Detail: detail}
}

func (Connecting) event() {}
func (Applied) event()    {}

func (CameraOpened) event()     {}
func (MicrophoneOpened) event() {}
func (SoundStopped) event()     {}
func (SoundRefused) event()     {}
func (StateChanged) event()     {}
func (Connected) event()        {}
func (Lost) event()             {}
func (Back) event()             {}
func (Verification) event()     {}
func (Recording) event()        {}
func (FirstFrame) event()       {}
func (Figures) event()          {}
func (Ending) event()           {}
func (Summary) event()          {}
