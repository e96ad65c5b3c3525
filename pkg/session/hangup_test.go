package session

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"
	"testing"
	"time"
)

// TestWhy: what a side tells the other for each way a call ends, and that
// the other side reads back the same.
func TestWhy(t *testing.T) {
	full := &fs.PathError{Op: "write", Path: "/mnt/x.webm", Err: syscall.ENOSPC}
	tests := []struct {
		name  string
		ended EndReason
		err   error
		want  string
	}{
		{"Ctrl-C", EndInterrupted, nil, "interrupted"},
		{"duration", EndDuration, nil, "duration"},
		{"player gone", EndOutputClosed, nil, "output-closed"},
		{"the other side hung up", EndHungUp, nil, "hang up"},
		{"disk full", 0, fmt.Errorf("%w: write video: %w", ErrRecording, full), "recording-failed: no space left on device"},
		{"short write", 0, fmt.Errorf("%w: %w", ErrRecording, io.ErrShortWrite), "recording-failed: short write"},
		{"recording failed otherwise", 0, fmt.Errorf("%w: %w", ErrRecording, errors.New("odd")), "recording-failed"},
		{"silence", 0, &SilenceError{For: 30 * time.Second}, "silence"},
		{"connection lost", 0, ErrConnectionLost, "connection-lost"},
		{"camera gone", 0, fmt.Errorf("%w: %w", ErrSourceFailed, errors.New("ENODEV")), "source-failed"},
		{"camera stopped", 0, errSourceStopped, "source-failed"},
		{"microphone gone, nothing else to send", 0, fmt.Errorf("%w: %w", ErrSoundFailed, errors.New("the microphone stopped")), "sound-failed"},
		{"stream came to its end", EndSourceEnded, nil, "source-ended"},
		{"viewer closed", EndViewerClosed, nil, "viewer-closed"},
		{"viewer failed", 0, fmt.Errorf("%w: ffplay exited 1", ErrViewer), "viewer-failed"},
		{"anything else", 0, errors.New("write stats: broken"), "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{ended: tc.ended}
			h := s.why(tc.err)
			if got := h.String(); got != tc.want {
				t.Errorf("why = %q; want %q", got, tc.want)
			}
			if back := parseHangUp(h.String()); back != h {
				t.Errorf("parseHangUp(%q) = %+v; want %+v", h.String(), back, h)
			}
		})
	}
}

func TestParseHangUp(t *testing.T) {
	tests := []struct {
		reason string
		want   HangUp
	}{
		{"", HangUp{Why: WhyHangUp}},
		{"hang up", HangUp{Why: WhyHangUp}},
		{"recording-failed: no space left on device", HangUp{Why: WhyRecording, Detail: "no space left on device"}},
		{"something-new: with: colons", HangUp{Why: "something-new", Detail: "with: colons"}},
	}
	for _, tc := range tests {
		if got := parseHangUp(tc.reason); got != tc.want {
			t.Errorf("parseHangUp(%q) = %+v; want %+v", tc.reason, got, tc.want)
		}
	}
}
