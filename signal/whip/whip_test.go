package whip

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

const testToken = "s3cret-t0ken"

// testOffer is a minimal offer with one video section, as pion makes it.
var testOffer = webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdpWithVideoPort(9)}

func sdpWithVideoPort(port int) string {
	p := "9"
	if port == 0 {
		p = "0"
	}
	return strings.Join([]string{
		"v=0",
		"o=- 1 1 IN IP4 0.0.0.0",
		"s=-",
		"t=0 0",
		"a=group:BUNDLE 0",
		"m=video " + p + " UDP/TLS/RTP/SAVPF 96",
		"c=IN IP4 0.0.0.0",
		"a=mid:0",
		"a=rtpmap:96 VP8/90000",
		"a=ice-ufrag:abcd",
		"a=ice-pwd:abcdefghijklmnopqrstuvwx",
		"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
		"a=setup:passive",
		"",
	}, "\r\n")
}

// request is what the fake server saw.
type request struct {
	method, path, auth, contentType, body string
}

// fakeServer is a WHIP endpoint at /cam/whip whose POST answer each test
// sets; it records every request and answers DELETE with deleteStatus.
type fakeServer struct {
	*httptest.Server
	post         http.HandlerFunc
	deleteStatus int
	mu           sync.Mutex
	reqs         []request
}

func newFakeServer(t *testing.T, post http.HandlerFunc) *fakeServer {
	t.Helper()
	s := &fakeServer{post: post, deleteStatus: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, request{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(body)})
		s.mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/cam/whip":
			s.post(w, r)
		case r.Method == http.MethodPost && r.URL.Path == "/old/whip":
			http.Redirect(w, r, "/cam/whip", http.StatusTemporaryRedirect)
		case r.Method == http.MethodDelete:
			w.WriteHeader(s.deleteStatus)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

func (s *fakeServer) deletes() []string {
	var paths []string
	for _, r := range s.requests() {
		if r.method == http.MethodDelete {
			paths = append(paths, r.path)
		}
	}
	return paths
}

// created answers 201 with the given Location and an SDP answer.
func created(location, answer string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/sdp")
		if location != "" {
			w.Header().Set("Location", location)
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, answer)
	}
}

// status answers code with a mediamtx-style JSON error that echoes the
// Authorization header, to prove errors never show the token.
func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		io.WriteString(w, `{"status":"error","error":"nope (`+r.Header.Get("Authorization")+`)"}`)
	}
}

func TestPost(t *testing.T) {
	answer := sdpWithVideoPort(9)
	sentinels := []error{ErrUnauthorized, ErrNotFound, ErrConflict, ErrServer, ErrProtocol, ErrMediaRejected, ErrUnreachable, ErrTLS}
	tests := []struct {
		name       string
		path       string
		post       http.HandlerFunc
		want       error // nil: success
		wantStatus int   // for an *HTTPError
		wantLoc    string
		wantDelete bool   // the client deletes the session it cannot use
		wantSDP    string // the answer, when not the default one
	}{
		{name: "created with relative location", post: created("/cam/whip/abc", answer), wantLoc: "/cam/whip/abc"},
		{name: "created with location relative to the endpoint", post: created("whip/abc", answer), wantLoc: "/cam/whip/abc"},
		{name: "created with absolute location", post: created("http://other.example/x/1", answer), wantLoc: "http://other.example/x/1"},
		{name: "redirect is followed and location resolves against it", path: "/old/whip", post: created("whip/res/1", answer), wantLoc: "/cam/whip/res/1"},
		{name: "401", post: status(401), want: ErrUnauthorized, wantStatus: 401},
		{name: "403", post: status(403), want: ErrUnauthorized, wantStatus: 403},
		{name: "404", post: status(404), want: ErrNotFound, wantStatus: 404},
		{name: "409", post: status(409), want: ErrConflict, wantStatus: 409},
		{name: "500", post: status(500), want: ErrServer, wantStatus: 500},
		{name: "503", post: status(503), want: ErrServer, wantStatus: 503},
		{name: "200 instead of 201", post: status(200), want: ErrProtocol, wantStatus: 200},
		{name: "400 matches no sentinel", post: status(400), wantStatus: 400},
		{name: "no location", post: created("", answer), want: ErrProtocol},
		{name: "html instead of sdp", post: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Location", "/cam/whip/abc")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "<html>hello</html>")
		}, want: ErrProtocol, wantDelete: true},
		{name: "body is not sdp", post: created("/cam/whip/abc", `{"answer":"no"}`), want: ErrProtocol, wantDelete: true},
		{name: "body does not parse as sdp", post: created("/cam/whip/abc", "v=0\r\nm=broken\r\n"), want: ErrProtocol, wantDelete: true},
		{name: "answer too large", post: created("/cam/whip/abc", answer+strings.Repeat("a=x\r\n", MaxAnswerSize/5)), want: ErrProtocol, wantDelete: true},
		{name: "bundle-only port 0 is not a rejection", post: created("/cam/whip/abc", sdpWithVideoPort(0)+"a=bundle-only\r\n"), wantLoc: "/cam/whip/abc", wantSDP: sdpWithVideoPort(0) + "a=bundle-only\r\n"},
		{name: "video rejected", post: created("/cam/whip/abc", sdpWithVideoPort(0)), want: ErrMediaRejected, wantDelete: true},
		{name: "video section missing", post: created("/cam/whip/abc", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"), want: ErrProtocol, wantDelete: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, tt.post)
			path := tt.path
			if path == "" {
				path = "/cam/whip"
			}
			c := &Client{Endpoint: srv.URL + path, Token: testToken}
			a, err := c.Post(t.Context(), testOffer)

			reqs := srv.requests()
			if len(reqs) == 0 || reqs[0].method != http.MethodPost {
				t.Fatalf("requests %+v: want a POST first", reqs)
			}
			if got := reqs[len(reqs)-1]; got.auth != "Bearer "+testToken {
				t.Errorf("Authorization = %q, want the bearer token", got.auth)
			}
			if reqs[0].contentType != "application/sdp" || reqs[0].body != testOffer.SDP {
				t.Errorf("POST sent %q with body %q, want the offer as application/sdp", reqs[0].contentType, reqs[0].body)
			}
			if tt.wantDelete != (len(srv.deletes()) == 1) {
				t.Errorf("DELETEs %v, want one: %v", srv.deletes(), tt.wantDelete)
			}

			if tt.want == nil && tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Post: %v", err)
				}
				wantLoc := tt.wantLoc
				if strings.HasPrefix(wantLoc, "/") {
					wantLoc = srv.URL + wantLoc
				}
				if a.Location.String() != wantLoc {
					t.Errorf("Location = %s, want %s", a.Location, wantLoc)
				}
				wantSDP := tt.wantSDP
				if wantSDP == "" {
					wantSDP = answer
				}
				if a.SDP.Type != webrtc.SDPTypeAnswer || a.SDP.SDP != wantSDP {
					t.Errorf("answer = %v %q, want the body as an answer", a.SDP.Type, a.SDP.SDP)
				}
				return
			}
			if err == nil {
				t.Fatalf("Post succeeded, want %v", tt.want)
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q shows the token", err)
			}
			if err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:] {
				t.Errorf("error %q starts with a capital", err)
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(err, %q) = %v", s, got)
				}
			}
			var he *HTTPError
			if got := errors.As(err, &he); got != (tt.wantStatus != 0) || (got && he.Status != tt.wantStatus) {
				t.Errorf("HTTPError %+v, want status %d", he, tt.wantStatus)
			}
			if he != nil && !strings.Contains(he.Message, "nope") {
				t.Errorf("HTTPError.Message = %q, want the server's error text", he.Message)
			}
			if err := c.Close(t.Context()); err != nil {
				t.Errorf("Close after a failed Post: %v", err)
			}
			if n := len(srv.requests()); n != len(reqs) {
				t.Errorf("Close after a failed Post sent %d requests, want none", n-len(reqs))
			}
		})
	}
}

func TestPostICEServersFromLinkHeaders(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", `<stun:stun.example.net>; rel="ice-server"`)
		w.Header().Add("Link", `<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="pw"; credential-type="password"`)
		w.Header().Add("Link", `</cam/whip/abc/sse>; rel="urn:ietf:params:whep:ext:core:server-sent-events"`)
		w.Header().Set("ETag", `"xyz"`)
		created("/cam/whip/abc", sdpWithVideoPort(9))(w, r)
	})
	c := &Client{Endpoint: srv.URL + "/cam/whip"}
	a, err := c.Post(t.Context(), testOffer)
	if err != nil {
		t.Fatal(err)
	}
	want := []webrtc.ICEServer{
		{URLs: []string{"stun:stun.example.net"}},
		{URLs: []string{"turn:turn.example.net?transport=udp"}, Username: "user", Credential: "pw", CredentialType: webrtc.ICECredentialTypePassword},
	}
	if !reflect.DeepEqual(a.ICEServers, want) {
		t.Errorf("ICEServers = %#v, want %#v", a.ICEServers, want)
	}
	if a.ETag != `"xyz"` {
		t.Errorf("ETag = %q", a.ETag)
	}
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{ICEServers: a.ICEServers})
	if err != nil {
		t.Fatalf("pion refuses the servers: %v", err)
	}
	pc.Close()
}

func TestNoTokenNoAuthorization(t *testing.T) {
	srv := newFakeServer(t, created("/cam/whip/abc", sdpWithVideoPort(9)))
	c := &Client{Endpoint: srv.URL + "/cam/whip"}
	if _, err := c.Exchange(t.Context(), testOffer); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.requests() {
		if r.auth != "" {
			t.Errorf("%s sent Authorization %q without a token", r.method, r.auth)
		}
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name         string
		deleteStatus int
		want         error
	}{
		{"200", http.StatusOK, nil},
		{"204", http.StatusNoContent, nil},
		{"404 means already gone", http.StatusNotFound, nil},
		{"500", http.StatusInternalServerError, ErrServer},
		{"401", http.StatusUnauthorized, ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, created("/cam/whip/abc", sdpWithVideoPort(9)))
			srv.deleteStatus = tt.deleteStatus
			c := &Client{Endpoint: srv.URL + "/cam/whip", Token: testToken}
			if _, err := c.Exchange(t.Context(), testOffer); err != nil {
				t.Fatal(err)
			}
			err := c.Close(t.Context())
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Close = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q shows the token", err)
			}
			reqs := srv.requests()
			if len(reqs) != 2 || reqs[1].method != http.MethodDelete || reqs[1].path != "/cam/whip/abc" || reqs[1].auth != "Bearer "+testToken {
				t.Errorf("requests %+v, want POST then DELETE /cam/whip/abc with the token", reqs)
			}
			if err := c.Close(t.Context()); err != nil {
				t.Errorf("second Close = %v, want nil", err)
			}
			if _, err := c.Exchange(t.Context(), testOffer); !errors.Is(err, ErrClosed) {
				t.Errorf("Exchange after Close = %v, want ErrClosed", err)
			}
			if n := len(srv.requests()); n != 2 {
				t.Errorf("%d requests after the second Close and Exchange, want none", n-2)
			}
		})
	}
}

func TestCloseWithoutSession(t *testing.T) {
	srv := newFakeServer(t, created("/cam/whip/abc", sdpWithVideoPort(9)))
	c := &Client{Endpoint: srv.URL + "/cam/whip"}
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("Close without a session sent %d requests", n)
	}
}

func TestExchangeWhileOpen(t *testing.T) {
	srv := newFakeServer(t, created("/cam/whip/abc", sdpWithVideoPort(9)))
	c := &Client{Endpoint: srv.URL + "/cam/whip"}
	if _, err := c.Exchange(t.Context(), testOffer); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(t.Context(), testOffer); !errors.Is(err, ErrActive) {
		t.Errorf("second Exchange = %v, want ErrActive", err)
	}
}

func TestCloseDuringExchangeDeletesTheSession(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		created("/cam/whip/late", sdpWithVideoPort(9))(w, r)
	})
	c := &Client{Endpoint: srv.URL + "/cam/whip"}
	done := make(chan error, 1)
	go func() {
		_, err := c.Exchange(t.Context(), testOffer)
		done <- err
	}()
	<-arrived
	if err := c.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	close(release)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("Exchange = %v, want ErrClosed", err)
	}
	if got := srv.deletes(); len(got) != 1 || got[0] != "/cam/whip/late" {
		t.Errorf("DELETEs %v, want the late session deleted", got)
	}
}

func TestICEServersOptions(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    int
		wantErr error
	}{
		{"204 with links", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Link", `<stun:a.example>; rel="ice-server", <stun:b.example>; rel="ice-server"`)
			w.WriteHeader(http.StatusNoContent)
		}, 2, nil},
		{"200 without links", func(w http.ResponseWriter, r *http.Request) {}, 0, nil},
		{"405", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMethodNotAllowed) }, 0, nil},
		{"401", status(401), 0, ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var auth, method string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				auth, method = r.Header.Get("Authorization"), r.Method
				tt.handler(w, r)
			}))
			defer srv.Close()
			c := &Client{Endpoint: srv.URL + "/cam/whip", Token: testToken}
			got, err := c.ICEServers(t.Context())
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("ICEServers error = %v, want %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q shows the token", err)
			}
			if len(got) != tt.want {
				t.Errorf("got %d servers %v, want %d", len(got), got, tt.want)
			}
			if method != http.MethodOptions || auth != "Bearer "+testToken {
				t.Errorf("sent %s with Authorization %q, want OPTIONS with the token", method, auth)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	refused := "http://" + testutil.ClosedAddr(t)
	tlsSrv := httptest.NewUnstartedServer(created("/x", sdpWithVideoPort(9)))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(created("/x", sdpWithVideoPort(9)))
	defer plainSrv.Close()
	// A server that goes away mid-request: it takes the connection and
	// closes it without an answer, as a killed server's kept-alive
	// connection does.
	hangUp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hangUp.Close()
	go func() {
		for {
			c, err := hangUp.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 4096))
			c.Close()
		}
	}()

	tests := []struct {
		name     string
		endpoint string
		want     error
		wantNet  bool
	}{
		{"connection refused", refused + "/cam/whip", ErrUnreachable, true},
		{"token in the endpoint query is redacted too", refused + "/cam/whip?token=" + testToken, ErrUnreachable, true},
		{"server closes without answering", "http://" + hangUp.Addr().String() + "/cam/whip", ErrUnreachable, false},
		{"untrusted certificate", tlsSrv.URL + "/cam/whip", ErrTLS, false},
		{"https to a plain http server", strings.Replace(plainSrv.URL, "http:", "https:", 1) + "/cam/whip", ErrTLS, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{Endpoint: tt.endpoint, Token: testToken}
			_, err := c.Exchange(t.Context(), testOffer)
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Exchange = %v, want %v", err, tt.want)
			}
			var opErr *net.OpError
			if tt.wantNet && !errors.As(err, &opErr) {
				t.Errorf("error does not wrap the *net.OpError")
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	arrived := make(chan struct{})
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	c := &Client{Endpoint: srv.URL + "/cam/whip"}
	done := make(chan error, 1)
	go func() {
		_, err := c.Exchange(ctx, testOffer)
		done <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Exchange = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Exchange did not return after cancel")
	}
}

func TestBadInput(t *testing.T) {
	for _, tt := range []struct {
		name     string
		endpoint string
		offer    webrtc.SessionDescription
	}{
		{"relative endpoint", "/cam/whip", testOffer},
		{"not http", "rtsp://127.0.0.1/cam", testOffer},
		{"answer instead of offer", "http://127.0.0.1:1/cam/whip", webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: testOffer.SDP}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{Endpoint: tt.endpoint}
			if _, err := c.Exchange(t.Context(), tt.offer); err == nil {
				t.Error("Exchange succeeded")
			} else {
				t.Logf("error: %v", err)
			}
		})
	}
}

// TestCheckAnswerSoundRejected: a server without sound may reject a
// player's recvonly audio section, but not a publisher's sound.
func TestCheckAnswerSoundRejected(t *testing.T) {
	sdpWith := func(port, dir string) string {
		return strings.Join([]string{"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0",
			"m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:0", "a=" + dir, "a=rtpmap:96 VP8/90000",
			"m=audio " + port + " UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=mid:1", "a=" + dir, "a=rtpmap:111 opus/48000/2", ""}, "\r\n")
	}
	tests := []struct {
		name, offerDir string
		want           error
	}{
		{"a player's sound", "recvonly", nil},
		{"a publisher's sound", "sendonly", ErrMediaRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkAnswer(sdpWith("9", tt.offerDir), sdpWith("0", "inactive")); !errors.Is(err, tt.want) {
				t.Errorf("checkAnswer: %v; want %v", err, tt.want)
			}
		})
	}
}
