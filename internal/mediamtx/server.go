package mediamtx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// startTimeout bounds how long Start waits for the server to listen.
const startTimeout = 20 * time.Second

// Options configure a server started by Start. The zero value lets anyone
// publish and read on any path.
type Options struct {
	// Publisher, when set, is the only user allowed to publish (WHIP).
	Publisher *User
	// Reader, when set, is the only user allowed to read (WHEP).
	Reader *User
	// ICEServers are announced to clients in Link headers (RFC 9725 §4.6);
	// the server itself does not use them.
	ICEServers []ICEServer
}

// User is a mediamtx internal user (authInternalUsers).
type User struct {
	Name, Pass string
}

// Token is the WHIP/WHEP bearer token mediamtx accepts for u: with its
// internal authentication, "Authorization: Bearer NAME:PASS" is read as
// that user's name and password (a token without a colon is taken for a
// JWT and checked only under authMethod jwt).
func (u User) Token() string { return u.Name + ":" + u.Pass }

// ICEServer is an entry of mediamtx's webrtcICEServers2.
type ICEServer struct {
	URL, Username, Password string
}

// Server is a running mediamtx. Start stops it when the test ends.
type Server struct {
	// HTTPAddr is the WebRTC HTTP listener (host:port on 127.0.0.1).
	HTTPAddr string
	// UDPAddr is the ICE UDP listener (host:port on 127.0.0.1).
	UDPAddr string

	cmd    *exec.Cmd
	exited <-chan struct{} // closed when the process has exited
	out    *logBuffer
}

// Start builds mediamtx if needed, starts it with a configuration that
// enables only WebRTC (on 127.0.0.1, free ports, host candidates on
// loopback), and waits until its HTTP listener answers. It calls t.Skip
// when mediamtx cannot be built here (no module proxy, no npm), unless
// EnvRequire is set. The server's output goes to t.Logf when the test
// fails; the server is killed when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := Binary(tlogWriter{t})
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("mediamtx: %v", err)
		}
		t.Skipf("mediamtx is not available: %v", err)
	}
	dir := t.TempDir()
	// A free port can be taken between our probe and mediamtx's bind: try
	// again with new ports when the server exits before it listens.
	var lastErr error
	for range 3 {
		s, err := start(t, bin, dir, opts)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("mediamtx: %v", lastErr)
	return nil
}

func start(t testing.TB, bin, dir string, opts Options) (*Server, error) {
	t.Helper()
	httpAddr, err := freeAddr("tcp")
	if err != nil {
		return nil, err
	}
	udpAddr, err := freeAddr("udp")
	if err != nil {
		return nil, err
	}
	conf, err := config(httpAddr, udpAddr, opts)
	if err != nil {
		return nil, err
	}
	confPath := filepath.Join(dir, "mediamtx.yml")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		return nil, err
	}
	s := &Server{
		HTTPAddr: httpAddr,
		UDPAddr:  udpAddr,
		out:      &logBuffer{},
	}
	s.cmd = exec.Command(bin, confPath)
	s.cmd.Dir = dir
	listening := make(chan struct{})
	var once sync.Once
	s.exited, err = testutil.StartLines(s.cmd, func(line string) {
		s.out.add(line)
		if strings.Contains(line, "[WebRTC] started with listeners") || strings.Contains(line, "[WebRTC] listener opened") {
			once.Do(func() { close(listening) })
		}
	})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-listening:
	case <-s.exited:
		return nil, fmt.Errorf("exited before listening (%v): %s", s.cmd.ProcessState, s.out.tail(10))
	case <-timer.C:
		s.Kill()
		return nil, fmt.Errorf("not listening after %v: %s", startTimeout, s.out.tail(10))
	}
	if err := s.ping(); err != nil {
		s.Kill()
		return nil, fmt.Errorf("http listener does not answer: %w: %s", err, s.out.tail(10))
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("mediamtx output:\n%s", s.out.String())
		}
	})
	return s, nil
}

// ping sends one OPTIONS request, which mediamtx answers on any path.
func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, s.URL()+"/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// URL is the base of the server's WebRTC HTTP endpoints.
func (s *Server) URL() string { return "http://" + s.HTTPAddr }

// WHIPURL is the WHIP endpoint that publishes to path, e.g. "cam".
func (s *Server) WHIPURL(path string) string { return s.URL() + "/" + path + "/whip" }

// WHEPURL is the WHEP endpoint that plays path.
func (s *Server) WHEPURL(path string) string { return s.URL() + "/" + path + "/whep" }

// Pid is the mediamtx process's ID (for figures read from /proc).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Kill kills the server at once (SIGKILL, no goodbye to its peers) and
// waits for it to exit. It is idempotent.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Exited is closed when the server process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Log returns the server's output so far.
func (s *Server) Log() string { return s.out.String() }

// WaitPublishing waits until something publishes on path, as the
// server's log says, or ctx ends. A WHIP publisher whose connection is
// up is not there yet: the server takes the stream only once each of its
// tracks has sent a first packet, and until then a viewer of the path
// gets 404.
func (s *Server) WaitPublishing(ctx context.Context, path string) error {
	want := "is publishing to path '" + path + "'"
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(s.out.String(), want) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("mediamtx never said %q: %w", want, ctx.Err())
		case <-s.exited:
			return fmt.Errorf("mediamtx exited before anything published on %q", path)
		case <-tick.C:
		}
	}
	return nil
}

// config renders a mediamtx configuration as JSON, which is YAML too.
func config(httpAddr, udpAddr string, opts Options) ([]byte, error) {
	perms := func(actions ...string) []map[string]string {
		var p []map[string]string
		for _, a := range actions {
			p = append(p, map[string]string{"action": a})
		}
		return p
	}
	var users []map[string]any
	var anyActions []string
	for _, role := range []struct {
		u      *User
		action string
	}{{opts.Publisher, "publish"}, {opts.Reader, "read"}} {
		if role.u == nil {
			anyActions = append(anyActions, role.action)
			continue
		}
		if strings.Contains(role.u.Name, ":") || role.u.Name == "" || role.u.Name == "any" {
			return nil, fmt.Errorf("user name %q cannot be used in a bearer token", role.u.Name)
		}
		users = append(users, map[string]any{"user": role.u.Name, "pass": role.u.Pass, "permissions": perms(role.action)})
	}
	if len(anyActions) > 0 {
		users = append(users, map[string]any{"user": "any", "pass": "", "permissions": perms(anyActions...)})
	}
	ice := []map[string]any{}
	for _, s := range opts.ICEServers {
		ice = append(ice, map[string]any{"url": s.URL, "username": s.Username, "password": s.Password, "clientOnly": true})
	}
	c := map[string]any{
		"logLevel":                 "debug",
		"logDestinations":          []string{"stdout"},
		"api":                      false,
		"metrics":                  false,
		"pprof":                    false,
		"playback":                 false,
		"rtsp":                     false,
		"rtmp":                     false,
		"hls":                      false,
		"srt":                      false,
		"moq":                      false,
		"webrtc":                   true,
		"webrtcAddress":            httpAddr,
		"webrtcLocalUDPAddress":    udpAddr,
		"webrtcLocalTCPAddress":    "",
		"webrtcIPsFromInterfaces":  false,
		"webrtcAdditionalHosts":    []string{"127.0.0.1"},
		"webrtcICEServers2":        ice,
		"webrtcHandshakeTimeout":   "10s",
		"webrtcTrackGatherTimeout": "2s",
		"authMethod":               "internal",
		"authInternalUsers":        users,
		"paths":                    map[string]any{"all_others": map[string]any{}},
	}
	return json.MarshalIndent(c, "", "  ")
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr(network string) (string, error) {
	switch network {
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer l.Close()
		return l.Addr().String(), nil
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.LocalAddr().String(), nil
	}
	return "", errors.New("unknown network " + strconv.Quote(network))
}

// logBuffer keeps the server's output lines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	b.lines = append(b.lines, line)
	b.mu.Unlock()
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// tail returns the last n lines on one line.
func (b *logBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// tlogWriter sends build progress to t.Logf.
type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
