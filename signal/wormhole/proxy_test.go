package wormhole

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/mailbox"
	"github.com/p2pcam/p2pcam/signal"
)

// fakeServer serves a WebSocket that sends first and then reads until
// the client hangs up: a server that is not the mailbox server.
func fakeServer(t *testing.T, first string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		if ws.Write(r.Context(), websocket.MessageText, []byte(first)) != nil {
			return
		}
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1"
}

// frame is one WebSocket message the proxy relayed.
type frame struct {
	toClient bool
	data     []byte
}

// proxy relays WebSocket messages between clients and a mailbox server,
// records them, and may change a message on its way to a client.
type proxy struct {
	upstream string
	// alter, when not nil, may change a server message to a client
	// bound as side; it returns the message to send.
	alter func(m map[string]any, side string) map[string]any

	mu     sync.Mutex
	frames []frame
}

func (p *proxy) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1"
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	client, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer client.CloseNow()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	server, _, err := websocket.Dial(ctx, p.upstream, nil)
	if err != nil {
		return
	}
	defer server.CloseNow()
	var (
		wg   sync.WaitGroup
		side bound
	)
	wg.Add(2)
	go func() { defer wg.Done(); defer cancel(); p.relay(ctx, server, client, true, &side) }()
	go func() { defer wg.Done(); defer cancel(); p.relay(ctx, client, server, false, &side) }()
	wg.Wait()
}

// bound is the side a client bound its connection to.
type bound struct {
	mu   sync.Mutex
	side string
}

func (b *bound) get() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.side
}

func (p *proxy) relay(ctx context.Context, from, to *websocket.Conn, toClient bool, side *bound) {
	for {
		typ, data, err := from.Read(ctx)
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			switch {
			case !toClient && m["type"] == "bind":
				side.mu.Lock()
				side.side, _ = m["side"].(string)
				side.mu.Unlock()
			case toClient && p.alter != nil:
				data, _ = json.Marshal(p.alter(m, side.get()))
			}
		}
		p.mu.Lock()
		p.frames = append(p.frames, frame{toClient: toClient, data: data})
		p.mu.Unlock()
		if to.Write(ctx, typ, data) != nil {
			return
		}
	}
}

// flipOnce returns an alter that flips one bit of the first body of phase
// it relays from one side to the other.
func flipOnce(phase string) func(map[string]any, string) map[string]any {
	var once sync.Once
	return func(m map[string]any, side string) map[string]any {
		if m["type"] != "message" || m["phase"] != phase || m["side"] == side {
			return m
		}
		once.Do(func() {
			body, _ := hex.DecodeString(m["body"].(string))
			body[len(body)/2] ^= 0x01
			m["body"] = hex.EncodeToString(body)
		})
		return m
	}
}

// TestChangedMessage changes one byte of one relayed message: the call
// does not happen and both sides say why.
func TestChangedMessage(t *testing.T) {
	tests := []struct {
		phase string
		want  error
	}{
		{phasePAKE, ErrWrongCode}, // the keys differ: indistinguishable from a wrong code
		{phaseConfirm, ErrWrongCode},
		{phaseOffer, ErrTampered},
		{phaseAnswer, ErrTampered},
	}
	checkRoutines(t)
	srv := mailbox.Start(t, mailbox.Options{})
	for _, tt := range tests {
		t.Run(tt.phase, func(t *testing.T) {
			ctx := testContext(t)
			p := &proxy{upstream: srv.URL(), alter: flipOnce(tt.phase)}
			cfg := Config{Server: p.start(t), Timeout: testTimeout}
			_, a, b := exchange(ctx, t, cfg)
			for side, r := range map[string]result{"offer": a, "answer": b} {
				if !errors.Is(r.err, tt.want) {
					t.Errorf("%s side: got %v, want %v", side, r.err, tt.want)
				}
			}
		})
	}
}

// TestNothingInClear checks that what the server sees and relays carries
// no SDP, candidate, ICE credential or fingerprint in clear, neither in
// the messages nor in their hex bodies.
func TestNothingInClear(t *testing.T) {
	checkRoutines(t)
	srv := mailbox.Start(t, mailbox.Options{})
	ctx := testContext(t)
	p := &proxy{upstream: srv.URL()}
	cfg := Config{Server: p.start(t), Timeout: testTimeout}
	code, a, b := exchange(ctx, t, cfg)
	if a.err != nil || b.err != nil {
		t.Fatalf("offer side: %v; answer side: %v", a.err, b.err)
	}

	secrets := []string{"v=0", "candidate", "typ host", "ice-ufrag", "fingerprint", "sha-256", "p2pcam1:", "VP8"}
	var blobs []string
	for _, sd := range []webrtc.SessionDescription{
		readSD(t, "offer-2.sdp", webrtc.SDPTypeOffer),
		readSD(t, "answer-2.sdp", webrtc.SDPTypeAnswer),
	} {
		for _, line := range strings.Split(sd.SDP, "\r\n") {
			for _, attr := range []string{"a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:sha-256 "} {
				if v, ok := strings.CutPrefix(line, attr); ok {
					secrets = append(secrets, v)
					if attr == "a=fingerprint:sha-256 " {
						fp, _ := hex.DecodeString(strings.ReplaceAll(v, ":", ""))
						secrets = append(secrets, string(fp))
					}
				}
			}
			if f := strings.Fields(line); strings.HasPrefix(line, "a=candidate:") && len(f) > 5 {
				secrets = append(secrets, f[4]) // the address
			}
		}
		blob, err := signal.Encode(sd, signal.FormatCompact)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, blob)
	}
	secrets = append(secrets, code.String())
	secrets = append(secrets, code.Words...)

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.frames) < 10 {
		t.Fatalf("the proxy saw only %d messages", len(p.frames))
	}
	for _, f := range p.frames {
		views := [][]byte{f.data}
		var m map[string]any
		if json.Unmarshal(f.data, &m) == nil {
			if body, ok := m["body"].(string); ok {
				b, _ := hex.DecodeString(body)
				views = append(views, b)
			}
		}
		for _, v := range views {
			for _, s := range append(secrets, blobs...) {
				if bytes.Contains(bytes.ToLower(v), bytes.ToLower([]byte(s))) {
					t.Errorf("%q in clear in a relayed message: %.200q", s, f.data)
				}
			}
		}
	}
}
