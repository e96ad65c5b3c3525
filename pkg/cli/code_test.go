package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/signal/paste"
	"github.com/p2pcam/p2pcam/signal/wormhole"
)

func TestCodeFlagsAndFailures(t *testing.T) {
	down := "ws://" + testutil.ClosedAddr(t) + "/v1" // a rendezvous server that is down
	out := filepath.Join(t.TempDir(), "call.webm")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		wantHint string
	}{
		{"code with a blob", []string{"offer", "--code", "BLOB"}, ExitUsage, "takes no blob", ""},
		{"code with whip", []string{"offer", "--code", "--whip", "http://x/whip"}, ExitUsage, "give --code or --whip, not both", ""},
		{"code with serve", []string{"offer", "--code", "--serve", ":0"}, ExitUsage, "give --code or --serve, not both", ""},
		{"too few words", []string{"offer", "--code", "--code-words", "1"}, ExitUsage, "bad --code-words 1", ""},
		{"too many words", []string{"offer", "--code", "--code-words", "9"}, ExitUsage, "bad --code-words 9", ""},
		{"words without code", []string{"offer", "--code-words", "3"}, ExitUsage, "--code-words does nothing with copy-paste: it belongs to calls by code", ""},
		{"rendezvous without code", []string{"offer", "--rendezvous", down}, ExitUsage, "--rendezvous does nothing with copy-paste: it belongs to calls by code", ""},
		{"code with blob format", []string{"offer", "--code", "--blob-format", "pion"}, ExitUsage, "--blob-format does nothing with --code", ""},
		{"rendezvous with whep", []string{"answer", "--whep", "http://h/cam/whep", "--rendezvous", down}, ExitUsage, "--rendezvous does nothing with --whep", ""},
		{"code with qr", []string{"offer", "--code", "--qr"}, ExitUsage, "--qr does nothing with --code", ""},
		{"rendezvous not a websocket", []string{"offer", "--code", "--rendezvous", "http://example.org"}, ExitUsage, "ws:// or wss://", ""},
		{"misspelt code", []string{"answer", "7-guitarst-revenge", "-o", out}, ExitFailure, `did you mean "guitarist"`, "7-guitarist-revenge"},
		{"offer, server down", []string{"offer", "--code", "--source", "test", "--rendezvous", down}, ExitFailure, "get a code: rendezvous server " + down + ": cannot reach it", "leave out --code"},
		{"answer, server down", []string{"answer", "7-guitarist-revenge", "--ice-server", "none", "-o", out, "--rendezvous", down}, ExitFailure, "exchange by code 7-guitarist-revenge: rendezvous server " + down + ": cannot reach it", "--rendezvous URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stderr, lines := runFails(t, tc.wantCode, tc.args...)
			last := len(lines) - 1
			for last > 0 && strings.HasPrefix(lines[last], "p2pcam: hint: ") {
				last--
			}
			if !strings.HasPrefix(lines[last], "p2pcam: ") || !strings.Contains(lines[last], tc.wantErr) {
				t.Fatalf("error line %q; want p2pcam: ...%s...\n%s", lines[last], tc.wantErr, stderr)
			}
			if !strings.Contains(strings.Join(lines[last+1:], "\n"), tc.wantHint) {
				t.Errorf("no hint with %q:\n%s", tc.wantHint, stderr)
			}
		})
	}
}

func TestCodeHints(t *testing.T) {
	for _, err := range []error{
		wormhole.ErrWrongCode, wormhole.ErrTampered, wormhole.ErrCrowded, wormhole.ErrNoSuchCode,
		fmt.Errorf("%w: nobody answered", wormhole.ErrTimeout), wormhole.ErrPeerGone,
		&wormhole.ServerError{URL: "ws://x/v1", Err: wormhole.ErrProofOfWork},
		&wormhole.ServerError{URL: "ws://x/v1", Err: wormhole.ErrServerGone},
		&wormhole.CodeError{Input: "7-x", Reason: "no"},
	} {
		wrapped := codeErr("7-guitarist-revenge", err)
		if errors.As(err, new(*wormhole.CodeError)) {
			wrapped = err
		}
		if h := hints(wrapped); len(h) == 0 {
			t.Errorf("no hint for %v", wrapped)
		}
	}
	if got := codeErr("7-a-b", errors.New("camera")); got.Error() != "camera" {
		t.Errorf("codeErr named the code in an error of another kind: %v", got)
	}
}

// TestRunGetsTheCodeMode: offer --code, and answer given a code (as its
// argument or in its --remote file), hand their run function a call by
// code; a blob stays copy-paste.
func TestRunGetsTheCodeMode(t *testing.T) {
	dir := t.TempDir()
	codeFile := filepath.Join(dir, "code.txt")
	if err := os.WriteFile(codeFile, []byte("7-guitarist-revenge\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		want     mode
		wantCode string
		server   string
	}{
		{"offer --code", []string{"offer", "--code", "--source", "test"}, modeCode, "", ""},
		{"answer CODE", []string{"answer", "7-guitarist-revenge"}, modeCode, "7-guitarist-revenge", ""},
		{"answer with spaces", []string{"answer", " 7 guitarist revenge "}, modeCode, "7 guitarist revenge", ""},
		{"answer --remote", []string{"answer", "--remote", codeFile}, modeCode, "7-guitarist-revenge", ""},
		{"answer --rendezvous", []string{"answer", "7-guitarist-revenge", "--rendezvous", "ws://127.0.0.1:4000/v1"}, modeCode, "7-guitarist-revenge", "ws://127.0.0.1:4000/v1"},
		{"answer BLOB", []string{"answer", "p2pcam1:AAAA"}, modePaste, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runGets(t, tc.args...)
			if got.mode != tc.want {
				t.Fatalf("mode %v, want %v", got.mode, tc.want)
			}
			if tc.want != modeCode {
				return
			}
			if got.code.code != tc.wantCode || got.code.cfg.Server != tc.server || got.code.cfg.Timeout != paste.DefaultPasteTimeout {
				t.Errorf("code call %+v; want code %q on %q within the paste window", *got.code, tc.wantCode, tc.server)
			}
		})
	}
}
