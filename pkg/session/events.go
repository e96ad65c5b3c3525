package session

import (
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/peer"
)

// Event is something a session reports while it runs, for the caller to
// show a person (or a test to check). Events come from the session's own
// goroutines, one at a time; the handler must not block for long.
type Event interface{ event() }

// Connecting: the descriptions have met; the session waits until Deadline
// for the connection. Window is the part of that wait granted to the other
// side for applying this side's description (0 when it is applied at once).
type Connecting struct {
	Deadline time.Time
	Window   time.Duration
}

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

// Ending: the call ends normally, for Reason.
type Ending struct{ Reason EndReason }

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
	EndViewerClosed                  // the person closed the viewer (Config.View)
)

func (Connecting) event()   {}
func (StateChanged) event() {}
func (Connected) event()    {}
func (Lost) event()         {}
func (Back) event()         {}
func (Verification) event() {}
func (Recording) event()    {}
func (FirstFrame) event()   {}
func (Figures) event()      {}
func (Ending) event()       {}
func (Summary) event()      {}
