package cli

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/iostreams"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/session"
)

// TestHungUpLine: each reason the other side gives for hanging up is
// worded; an unknown one (a newer p2pcam) still reads as a hang-up.
func TestHungUpLine(t *testing.T) {
	tests := []struct {
		h    session.HangUp
		want string
	}{
		{session.HangUp{Why: session.WhyHangUp}, "the other side hung up"},
		{session.HangUp{Why: "from-the-future"}, "the other side hung up"},
		{session.HangUp{Why: session.WhyInterrupted}, "the other side was interrupted (Ctrl-C); the call is over"},
		{session.HangUp{Why: session.WhyDuration}, "the other side reached its --duration; the call is over"},
		{session.HangUp{Why: session.WhyOutputClosed}, "the player on the other side closed the stream; the call is over"},
		{session.HangUp{Why: session.WhyRecording, Detail: "no space left on device"}, "the other side stopped recording: no space left on device; hanging up"},
		{session.HangUp{Why: session.WhyRecording}, "the other side stopped recording; hanging up"},
		{session.HangUp{Why: session.WhySource}, "the other side's camera or file stopped; hanging up"},
		{session.HangUp{Why: session.WhySound}, "the other side's microphone stopped, and it had nothing else to send; hanging up"},
		{session.HangUp{Why: session.WhySourceEnded}, "the video the other side streams came to its end; the call is over"},
		{session.HangUp{Why: session.WhyViewerClosed}, "the other side closed its viewer window; the call is over"},
		{session.HangUp{Why: session.WhySilence}, "the other side heard nothing from this side for its --silence-timeout and hung up: packets from here stopped reaching it"},
		{session.HangUp{Why: session.WhyLost}, "the other side lost the connection and hung up"},
		{session.HangUp{Why: session.WhyError}, "the other side hung up after an error (its screen says which)"},
	}
	for _, tc := range tests {
		if got := hungUpLine(tc.h); got != tc.want {
			t.Errorf("hungUpLine(%+v) = %q; want %q", tc.h, got, tc.want)
		}
	}
}

// TestSummaryLinesCountDrops: frames skipped for a slow player and
// damaged camera frames are said in the summary, and only when there are
// some.
func TestSummaryLinesCountDrops(t *testing.T) {
	tests := []struct {
		name string
		snap session.Snapshot
		want []string
		not  []string
	}{
		{"none dropped", session.Snapshot{FramesRecv: 90}, nil, []string{"skipped", "damaged"}},
		{"player behind", session.Snapshot{FramesRecv: 90, PipeDropped: 12},
			[]string{"skipped 12 frames while the player on -o - fell behind, to keep it live"}, []string{"damaged"}},
		{"camera frames", session.Snapshot{FramesSent: 90, CameraDropped: 3},
			[]string{"dropped 3 damaged camera frames"}, []string{"skipped"}},
		{"measured, no sound", session.Snapshot{FramesRecv: 90, Measured: &session.Measured{LatencyP50: 5}},
			[]string{"glass-to-glass latency p50 5.0 ms"}, []string{"sound:"}},
		{"measured sound", session.Snapshot{FramesRecv: 90, Measured: &session.Measured{Beeps: 4, AudioDelayP50: 12.5, AudioDelayMax: 20, AVOffset: ptr(-3.25)}},
			[]string{"sound: 4 beeps, capture to decode p50 12.5 ms, max 20.0 ms; -3.2 ms from the picture at the decoders (+: sound late)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(summaryLines(tt.snap), "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary %q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("summary %q says %q", got, n)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestStatusLineSound: the live status line gives the sound's delay and
// offset once measured.
func TestStatusLineSound(t *testing.T) {
	s := session.Snapshot{Measured: &session.Measured{LatencyP50: 5, Beeps: 2, AudioDelayP50: 12.4, AVOffset: ptr(7.0)}}
	if got := statusLine(s); !strings.HasSuffix(got, " | sound 12ms av +7ms") {
		t.Errorf("status line %q; want it to end with the sound's figures", got)
	}
	s.Measured.Beeps = 0
	if got := statusLine(s); strings.Contains(got, "sound") {
		t.Errorf("status line %q speaks of sound without beeps", got)
	}
}

// TestVerificationCodeOnlyWithBlobs: the code is shown where people
// carried blobs and can compare it, and left out with --whip/--whep,
// where nothing on the other side shows one.
func TestVerificationCodeOnlyWithBlobs(t *testing.T) {
	for _, blobs := range []bool{true, false} {
		var b strings.Builder
		r := newReporter(iostreams.NewConsole(&b, false), "0s", blobs)
		r.event(session.Verification{Code: "123 456"})
		r.close()
		if got := strings.Contains(b.String(), "123 456"); got != blobs {
			t.Errorf("blobs %v: code shown %v:\n%s", blobs, got, b.String())
		}
	}
}

// TestViewTitle: the window's title names the command (answer --whep
// offers, and is still answer), then the code where people can compare
// it, then the path.
func TestViewTitle(t *testing.T) {
	pair := peer.Pair{
		Local:  webrtc.ICECandidate{Typ: webrtc.ICECandidateTypeHost, Protocol: webrtc.ICEProtocolUDP, Address: "192.168.1.20", Port: 50000},
		Remote: webrtc.ICECandidate{Typ: webrtc.ICECandidateTypeHost, Protocol: webrtc.ICEProtocolUDP, Address: "192.168.1.31", Port: 50001},
	}
	tests := []struct {
		name    string
		command session.Role
		call    session.ViewCall
		blobs   bool
		want    string
	}{
		{"answer", session.Answerer, session.ViewCall{Role: session.Answerer, Pair: pair, Known: true, Code: "778 062"}, true,
			"p2pcam answer · 778 062 · host/udp 192.168.1.20 ↔ 192.168.1.31"},
		{"offer", session.Offerer, session.ViewCall{Role: session.Offerer, Pair: pair, Known: true, Code: "778 062"}, true,
			"p2pcam offer · 778 062 · host/udp 192.168.1.20 ↔ 192.168.1.31"},
		{"answer --whep", session.Answerer, session.ViewCall{Role: session.Offerer, Pair: pair, Known: true, Code: "778 062"}, false,
			"p2pcam answer · host/udp 192.168.1.20 ↔ 192.168.1.31"},
		{"no path", session.Answerer, session.ViewCall{Role: session.Answerer, Code: "778 062"}, true,
			"p2pcam answer · 778 062"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := viewTitle(tt.command, tt.call, tt.blobs); got != tt.want {
				t.Errorf("viewTitle = %q; want %q", got, tt.want)
			}
		})
	}
}
