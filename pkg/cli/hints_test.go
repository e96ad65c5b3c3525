package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/measure"
	"github.com/p2pcam/p2pcam/pkg/pcm"
	"github.com/p2pcam/p2pcam/pkg/peer"
	"github.com/p2pcam/p2pcam/pkg/session"
	"github.com/p2pcam/p2pcam/signal"
	"github.com/p2pcam/p2pcam/signal/paste"
)

// TestHints: each error p2pcam knows gets its advice, as report prints it:
// one error line, then the hint lines, and the exit code.
func TestHints(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	tests := []struct {
		name  string
		err   error
		code  int
		hints []string // a part of each hint line, in order
	}{
		{"usage", usagef("bad --fps 0: use 1 to 120"), ExitUsage, []string{"see p2pcam --help"}},
		{"source failed", wrap(session.ErrSourceFailed), ExitFailure, []string{"still plugged in"}},
		{"no camera", wrap(capture.ErrNoCamera), ExitFailure, []string{"--source test sends a synthetic pattern"}},
		{"camera busy, holder known", wrap(&capture.CameraBusyError{Device: "/dev/video0", Holders: []capture.Holder{{PID: 7, Name: "cheese"}}}), ExitFailure, []string{"close that program"}},
		{"camera busy", wrap(&capture.CameraBusyError{Device: "/dev/video0"}), ExitFailure, []string{"fuser -v /dev/video0"}},
		{"camera permission", wrap(&capture.CameraPermissionError{Device: "/dev/video0", Group: "video"}), ExitFailure, []string{"usermod -aG video"}},
		{"camera unplugged", fmt.Errorf("%w: %w", session.ErrSourceFailed, capture.ErrCameraGone), ExitFailure, []string{"recording is finalized"}},
		{"camera stalled", fmt.Errorf("%w: %w", session.ErrSourceFailed, capture.ErrCameraStalled), ExitFailure, []string{"stopped sending pictures"}},
		{"no camera mode", wrap(capture.ErrNoMode), ExitFailure, []string{"drop --camera-format"}},
		{"no microphone", wrap(capture.ErrNoMicrophone), ExitFailure, []string{"--audio test"}},
		{"no such microphone", wrap(&capture.NoMicrophoneError{Name: "usb", Have: []string{"mic.monitor"}}), ExitFailure, []string{"--audio mic:NAME"}},
		{"WAV not 16-bit", wrap(pcm.ErrNotPCM16), ExitFailure, []string{"pcm_s16le"}},
		{"bad camera name", wrap(capture.ErrBadSource), ExitFailure, []string{"p2pcam devices lists the camera names"}},
		{"truncated y4m", wrap(&capture.FileError{Name: "clip.y4m", Err: fmt.Errorf("%w: it ends after 2 whole frames", capture.ErrTruncated)}), ExitFailure,
			[]string{"copy it again, or keep its whole frames: ffmpeg -i clip.y4m -f yuv4mpegpipe WHOLE.y4m"}},
		{"corrupt stream mid-call", fmt.Errorf("%w: stdin: %w", session.ErrSourceFailed, &capture.FileError{Name: "stdin", Err: errors.New("corrupt y4m")}), ExitFailure,
			[]string{"make a clean Y4M"}},
		{"no encoder", wrap(capture.ErrNoEncoder), ExitFailure, []string{"libvpx-dev"}},
		{"no decoder", wrap(measure.ErrNoDecoder), ExitFailure, []string{"libvpx-dev"}},
		{"answer never pasted", &session.ConnectTimeoutError{Waited: 330 * time.Second, Window: 5 * time.Minute}, ExitFailure,
			[]string{"either the answer blob did not reach `p2pcam offer` in time, or the two machines found no network path", "fresh blobs", "TURN server"}},
		{"answer applied, no path", &session.ConnectTimeoutError{Waited: 40 * time.Second, Window: 5 * time.Minute, Heard: true}, ExitFailure,
			[]string{"found no network path", "TURN server: --ice-server turn:", "--interface"}},
		{"no path", &session.ConnectTimeoutError{Waited: 30 * time.Second}, ExitFailure,
			[]string{"found no network path", "TURN server: --ice-server turn:", "--interface"}},
		{"ICE failed while the answer was pending", &session.ConnectTimeoutError{Waited: 330 * time.Second, Window: 5 * time.Minute, Err: peer.ErrICEFailed}, ExitFailure,
			[]string{"found no network path", "TURN server", "--interface"}},
		{"silence", &session.SilenceError{For: 30 * time.Second}, ExitFailure, []string{"--silence-timeout"}},
		{"silence, the address here gone", &session.SilenceError{For: 30 * time.Second, Gone: "192.0.2.2"}, ExitFailure, []string{"check this machine's network"}},
		{"connection lost", session.ErrConnectionLost, ExitFailure, []string{"start a new call"}},
		{"output exists", fmt.Errorf("%w: call.webm", session.ErrOutputExists), ExitFailure, []string{"--force"}},
		{"recording failed", wrap(session.ErrRecording), ExitFailure, []string{"free space"}},
		{"codec", &codec.UnsupportedError{Kind: codec.Video, MimeType: "video/H264"}, ExitFailure, []string{"VP8"}},
		{"no common codec", wrap(peer.ErrNoCommonCodec), ExitFailure, []string{"VP8"}},
		{"paste timeout", wrap(paste.ErrPasteTimeout), ExitFailure, []string{"fresh blobs (offer -> answer, then answer -> offer); --paste-timeout gives more time"}},
		{"truncated blob", &signal.TruncatedError{Len: 1024}, ExitFailure, []string{"--remote FILE"}},
		{"checksum", signal.ErrChecksum, ExitFailure, []string{"unedited"}},
		{"wrong blob", &signal.TypeError{Got: webrtc.SDPTypeOffer, Want: webrtc.SDPTypeAnswer}, ExitFailure, []string{"answer blobs go back into p2pcam offer"}},
		{"unknown", errors.New("disk on fire"), ExitFailure, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if code := report(&b, tc.err, false); code != tc.code {
				t.Errorf("exit %d; want %d", code, tc.code)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if lines[0] != "p2pcam: "+tc.err.Error() {
				t.Errorf("first line %q; want the error", lines[0])
			}
			got := lines[1:]
			if len(got) != len(tc.hints) {
				t.Fatalf("hints:\n%s\nwant %d lines with %q", strings.Join(got, "\n"), len(tc.hints), tc.hints)
			}
			for i, h := range tc.hints {
				if !strings.HasPrefix(got[i], "p2pcam: hint: ") || !strings.Contains(got[i], h) {
					t.Errorf("hint %d %q; want p2pcam: hint: ...%s...", i, got[i], h)
				}
				// Advice appears once: the hint does not repeat the error.
				if strings.Contains(tc.err.Error(), strings.TrimPrefix(got[i], "p2pcam: hint: ")) {
					t.Errorf("hint %q repeats the error line", got[i])
				}
			}
		})
	}
}

// TestInterruptedExitCode: cancelled before connecting is 130 with one
// line, whatever the signaler was doing.
func TestInterruptedExitCode(t *testing.T) {
	var b bytes.Buffer
	err := fmt.Errorf("%w: %w", session.ErrInterrupted, context.Canceled)
	if code := report(&b, err, true); code != ExitInterrupted || b.String() != "p2pcam: interrupted\n" {
		t.Fatalf("exit %d, %q; want 130 and one line", code, b.String())
	}
}

// TestBlobAdvice: each error a bad blob can give has its advice, and the
// others none.
func TestBlobAdvice(t *testing.T) {
	tests := []struct {
		err  error
		want string // a part of the advice; "" for none
	}{
		{&signal.TruncatedError{Len: 4095}, "--remote FILE"},
		{signal.ErrChecksum, "copy it again, whole and unedited"},
		{&signal.VersionError{Version: 2}, "update p2pcam on this machine"},
		{&signal.TypeError{Got: webrtc.SDPTypeAnswer, Want: webrtc.SDPTypeOffer}, "offer blobs go into p2pcam answer"},
		{signal.ErrNotBlob, "starts with p2pcam1:"},
		{signal.ErrEmpty, ""},
		{errors.New("something else"), ""},
	}
	for _, tc := range tests {
		got := blobAdvice(tc.err)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("blobAdvice(%v) = %q; want it to contain %q", tc.err, got, tc.want)
		}
	}
}
