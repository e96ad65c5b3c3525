package cli

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// reporter turns a session's events into lines for a person on the
// console, and keeps the status line and the connect countdown.
type reporter struct {
	con      *iostreams.Console
	duration string // --duration as given, for the line that ends the call
	blobs    bool   // the descriptions travelled as blobs people carried

	mu        sync.Mutex
	stopCount func() // the running countdown (connecting, or a lost path), if any
}

func newReporter(con *iostreams.Console, duration string, blobs bool) *reporter {
	return &reporter{con: con, duration: duration, blobs: blobs}
}

// event is the session's Events handler.
func (r *reporter) event(ev session.Event) {
	switch ev := ev.(type) {
	case session.CameraOpened:
		r.con.Linef("camera: %s %s", ev.Name, ev.Mode)
	case session.MicrophoneOpened:
		r.con.Linef("microphone: %s (%s), 48 kHz mono Opus", ev.Mic.Name, ev.Mic.Label)
	case session.SoundStopped:
		r.con.Linef("sound stopped: %v; the call goes on without it", ev.Err)
	case session.SoundRefused:
		r.con.Linef("no sound: the other side's sound is %s, and p2pcam takes Opus at 48 kHz only (RFC 7587); the call goes on without sound", ev.Codec)
	case session.Connecting:
		what := "to connect"
		if ev.Window > 0 {
			what = "for the other side to paste the answer and connect"
			// The same time as the countdown starts from.
			r.con.Linef("waiting up to %s %s", iostreams.Clock(time.Until(ev.Deadline)), what)
		}
		r.countdown(r.con.Countdown(ev.Deadline, what))
	case session.Applied:
		r.con.Linef("the other side has the answer and is reaching out; connecting (up to %s)", iostreams.Clock(time.Until(ev.Deadline)))
		r.countdown(r.con.Countdown(ev.Deadline, "to connect"))
	case session.StateChanged:
		r.con.Linef("connection: %s", ev.State)
	case session.Connected:
		r.countdown(nil)
		if ev.Known {
			r.con.Linef("connected over %s", ev.Pair)
		} else {
			r.con.Linef("connected")
		}
	case session.Lost:
		if ev.Gone != "" {
			r.con.Linef("connection: lost: this machine's address %s went away; waiting for the network here to come back (up to %s)", ev.Gone, iostreams.Clock(time.Until(ev.Deadline)))
			r.countdown(r.con.Countdown(ev.Deadline, "for the network to come back"))
			break
		}
		r.con.Linef("connection: lost, waiting for the other side (up to %s)", iostreams.Clock(time.Until(ev.Deadline)))
		r.countdown(r.con.Countdown(ev.Deadline, "for the other side to come back"))
	case session.Back:
		r.countdown(nil)
		r.con.Linef("connection: back after %.1f s", ev.After.Seconds())
	case session.Moved:
		r.con.Linef("connection: moved to %s (an address changed; the call followed it)", ev.Pair)
	case session.Verification:
		// Only people who carried blobs have a code on each side to
		// compare: a media server, or a browser page of --serve, shows
		// none, so there the code would authenticate nothing.
		if r.blobs {
			r.con.Linef("verification code: %s", ev.Code)
			r.con.Linef("  compare it with the other side by phone or chat: if the codes differ, someone altered the blobs; hang up.")
		}
	case session.Recording:
		if ev.Output != "-" {
			r.con.Linef("recording to %s", ev.Output)
		}
	case session.FirstFrame:
		r.con.Linef("receiving %dx%d video (first frame %d ms after connecting)", ev.Width, ev.Height, ev.After.Milliseconds())
	case session.Figures:
		// A running countdown (the path is lost) owns the status line.
		r.mu.Lock()
		counting := r.stopCount != nil
		r.mu.Unlock()
		if !counting {
			r.con.SetStatus(statusLine(ev.Snapshot))
		}
	case session.Ending:
		switch ev.Reason {
		case session.EndInterrupted:
			r.con.Linef("stopping")
		case session.EndDuration:
			r.con.Linef("%s passed; hanging up", r.duration)
		case session.EndHungUp:
			r.con.Linef("%s", hungUpLine(ev.Remote))
		case session.EndOutputClosed:
			r.con.Linef("the player closed the stream; hanging up")
		case session.EndSourceEnded:
			r.con.Linef("the source ended; hanging up")
		case session.EndViewerClosed:
			r.con.Linef("the viewer was closed; hanging up")
		}
	case session.Summary:
		r.con.SetStatus("")
		for _, l := range summaryLines(ev.Final) {
			r.con.Linef("%s", l)
		}
		if out := ev.Result.Output; out != "" && out != "-" {
			r.con.Linef("saved %d frames to %s", ev.Result.FramesRecv, out)
		}
	}
}

// hungUpLine words what the other side said when it hung up.
func hungUpLine(h session.HangUp) string {
	switch h.Why {
	case session.WhyInterrupted:
		return "the other side was interrupted (Ctrl-C); the call is over"
	case session.WhyDuration:
		return "the other side reached its --duration; the call is over"
	case session.WhyOutputClosed:
		return "the player on the other side closed the stream; the call is over"
	case session.WhyRecording:
		if h.Detail != "" {
			return "the other side stopped recording: " + h.Detail + "; hanging up"
		}
		return "the other side stopped recording; hanging up"
	case session.WhySource:
		return "the other side's camera or file stopped; hanging up"
	case session.WhySound:
		return "the other side's microphone stopped, and it had nothing else to send; hanging up"
	case session.WhySourceEnded:
		return "the video the other side streams came to its end; the call is over"
	case session.WhyViewerClosed:
		return "the other side closed its viewer window; the call is over"
	case session.WhyViewer:
		return "the other side's viewer window failed; hanging up"
	case session.WhySilence:
		return "the other side heard nothing from this side for its --silence-timeout and hung up: packets from here stopped reaching it"
	case session.WhyLost:
		return "the other side lost the connection and hung up"
	case session.WhyError:
		return "the other side hung up after an error (its screen says which)"
	}
	return "the other side hung up"
}

// countdown replaces the running countdown with stop's (nil: none).
func (r *reporter) countdown(stop func()) {
	r.mu.Lock()
	old := r.stopCount
	r.stopCount = stop
	r.mu.Unlock()
	if old != nil {
		old()
	}
}

// close stops what the reporter keeps running, once the session is over.
func (r *reporter) close() {
	r.countdown(nil)
	r.con.SetStatus("")
}

// statusLine formats s for the one-line live status on a terminal.
func statusLine(s session.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s rtt %.0fms", s.State, s.Pair, s.RTTMs)
	if s.FramesSent > 0 || s.TargetBps > 0 {
		fmt.Fprintf(&b, " | send %s %.0ffps target %s enc %.1fms", kbps(s.SendBps), s.FPSSent, kbps(int64(s.TargetBps)), s.EncodeMs)
	}
	if s.FramesRecv > 0 || s.RecvBps > 0 {
		fmt.Fprintf(&b, " | recv %s %.0ffps", kbps(s.RecvBps), s.FPSRecv)
	}
	fmt.Fprintf(&b, " | lost %d nack %d pli %d", s.PacketsLost, s.NACK, s.PLI)
	if m := s.Measured; m != nil {
		fmt.Fprintf(&b, " | latency p50 %.0fms p95 %.0fms psnr %.1fdB", m.LatencyP50, m.LatencyP95, m.PSNR)
		if m.Beeps > 0 {
			fmt.Fprintf(&b, " | sound %.0fms", m.AudioDelayP50)
			if m.AVOffset != nil {
				fmt.Fprintf(&b, " av %+.0fms", *m.AVOffset)
			}
		}
	}
	return b.String()
}

func kbps(bps int64) string {
	if bps >= 1_000_000 {
		return fmt.Sprintf("%.1fMb/s", float64(bps)/1e6)
	}
	return fmt.Sprintf("%dkb/s", bps/1000)
}

// summaryLines describes the whole call for the end of the session.
func summaryLines(s session.Snapshot) []string {
	var out []string
	if s.FramesSent > 0 {
		out = append(out, fmt.Sprintf("sent %d frames in %.1fs (%.1f fps, %s, encode %.1f ms/frame)", s.FramesSent, s.T, s.FPSSent, kbps(s.SendBps), s.EncodeMs))
	}
	if s.FramesRecv > 0 {
		out = append(out, fmt.Sprintf("received %d frames (%.1f fps, %s), %d packets lost, %d NACKs, %d keyframe requests", s.FramesRecv, s.FPSRecv, kbps(s.RecvBps), s.PacketsLost, s.NACK, s.PLI))
	}
	if s.PipeDropped > 0 {
		out = append(out, fmt.Sprintf("skipped %d frames while the player on -o - fell behind, to keep it live", s.PipeDropped))
	}
	if s.CameraDropped > 0 {
		out = append(out, fmt.Sprintf("dropped %d damaged camera frames", s.CameraDropped))
	}
	if m := s.Measured; m != nil {
		out = append(out, fmt.Sprintf("glass-to-glass latency p50 %.1f ms, p95 %.1f ms, max %.1f ms; %d frames lost, %.0f ms frozen; PSNR %.1f dB", m.LatencyP50, m.LatencyP95, m.LatencyMax, m.FramesLost, m.FrozenMs, m.PSNR))
		if m.Beeps > 0 {
			line := fmt.Sprintf("sound: %d beeps, capture to decode p50 %.1f ms, max %.1f ms", m.Beeps, m.AudioDelayP50, m.AudioDelayMax)
			if m.AVOffset != nil {
				line += fmt.Sprintf("; %+.1f ms from the picture at the decoders (+: sound late)", *m.AVOffset)
			}
			out = append(out, line)
		}
	}
	return out
}
