// Package mailbox starts magic-wormhole's mailbox server (the rendezvous
// p2pcam's short codes meet at) for tests: Debian's
// python3-magic-wormhole-mailbox-server, unmodified, on a free loopback
// port with its state in memory, one server per test.
package mailbox

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// EnvRequire, set to 1 (as CI does), turns a missing server into a test
// failure instead of a skip.
const EnvRequire = "P2PCAM_REQUIRE_MAILBOX"

// Package is the Debian package that provides the server.
const Package = "python3-magic-wormhole-mailbox-server"

// startTimeout bounds how long Start waits for the server to listen.
const startTimeout = 20 * time.Second

// listening is the line twisted's web site prints once it listens.
var listening = regexp.MustCompile(`PrivacyEnhancedSite starting on (\d+)`)

// Options configure a server started by Start.
type Options struct {
	// SignalError makes the server refuse every client with this message
	// in its welcome (--signal-error).
	SignalError string
	// DisallowList makes the server refuse to list nameplates
	// (--disallow-list).
	DisallowList bool
}

// Server is a running mailbox server. Start stops it when the test ends.
type Server struct {
	// Port is the TCP port it listens on, on 127.0.0.1.
	Port string

	cmd    *exec.Cmd
	exited <-chan struct{} // closed once the process has exited and its output is read
	mu     sync.Mutex
	out    []string
	kill   sync.Once
}

// URL is the server's WebSocket endpoint, ws://127.0.0.1:PORT/v1.
func (s *Server) URL() string { return "ws://127.0.0.1:" + s.Port + "/v1" }

// Command finds a way to run twisted's launcher: twist3 (Debian), twist,
// or the system python's twisted module. It returns the command and its
// leading arguments, or an error naming the package to install.
func Command() ([]string, error) {
	for _, name := range []string{"twist3", "twist"} {
		if p, err := exec.LookPath(name); err == nil {
			return []string{p}, nil
		}
	}
	// pyenv's python3 may come first in PATH without twisted; Debian's is
	// the one the package installs into.
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		p, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import twisted, wormhole_mailbox_server").Run() == nil {
			return []string{p, "-m", "twisted"}, nil
		}
	}
	return nil, fmt.Errorf("no twist3, twist or python3 with twisted and wormhole_mailbox_server: apt-get install %s", Package)
}

// Start starts a mailbox server on a free loopback port and waits until it
// listens. It skips the test when the server is not installed, unless
// EnvRequire is 1. The server's output goes to t.Logf when the test fails;
// the server is stopped when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	argv, err := Command()
	if err == nil {
		// The launcher may be there without the plugin.
		var out []byte
		out, err = exec.Command(argv[0], append(argv[1:], "wormhole-mailbox", "--help")...).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%s has no wormhole-mailbox plugin (apt-get install %s): %v: %s", argv[0], Package, err, strings.TrimSpace(string(out)))
		}
	}
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("mailbox server: %v", err)
		}
		t.Skipf("the mailbox server is not available: %v", err)
	}
	args := append(argv[1:], "wormhole-mailbox", "--port=tcp:0:interface=127.0.0.1", "--channel-db=:memory:")
	if opts.SignalError != "" {
		args = append(args, "--signal-error="+opts.SignalError)
	}
	if opts.DisallowList {
		args = append(args, "--disallow-list")
	}
	s := &Server{}
	s.cmd = exec.Command(argv[0], args...)
	s.cmd.Dir = t.TempDir() // twistd writes nothing, but keep the cwd clean
	port := make(chan string, 1)
	s.exited, err = testutil.StartLines(s.cmd, func(line string) {
		var entry struct {
			Text string `json:"log_text"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Text != "" {
			line = entry.Text // twistd logs JSON when its output is not a terminal
		}
		s.mu.Lock()
		s.out = append(s.out, line)
		s.mu.Unlock()
		if m := listening.FindStringSubmatch(line); m != nil {
			select {
			case port <- m[1]:
			default:
			}
		}
	})
	if err != nil {
		t.Fatalf("mailbox server: start %s: %v", argv[0], err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("mailbox server output:\n%s", s.output())
		}
	})
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case s.Port = <-port:
	case <-s.exited:
		t.Fatalf("mailbox server exited before listening (%v): %s", s.cmd.ProcessState, s.output())
	case <-timer.C:
		t.Fatalf("mailbox server not listening after %v: %s", startTimeout, s.output())
	}
	return s
}

// Stop kills the server at once and waits for it to exit; its clients see
// their connections drop. It is idempotent.
func (s *Server) Stop() {
	s.kill.Do(func() { _ = s.cmd.Process.Kill() })
	<-s.exited
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.out, "\n")
}
