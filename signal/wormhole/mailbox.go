package wormhole

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// maxMessage bounds a message from the server; the largest p2pcam sends
// is a sealed blob, hex-encoded, far below it.
const maxMessage = 256 << 10

// closeTimeout bounds the goodbye (release, close) when an exchange ends.
const closeTimeout = 3 * time.Second

// serverMsg is a message from the mailbox server (server-protocol.md).
type serverMsg struct {
	Type       string          `json:"type"`
	Welcome    *welcome        `json:"welcome,omitempty"`
	Nameplate  string          `json:"nameplate,omitempty"`
	Nameplates []nameplateInfo `json:"nameplates,omitempty"`
	Mailbox    string          `json:"mailbox,omitempty"`
	Side       string          `json:"side,omitempty"`
	Phase      string          `json:"phase,omitempty"`
	Body       string          `json:"body,omitempty"` // hex
	Error      string          `json:"error,omitempty"`
	Pong       *int64          `json:"pong,omitempty"`
}

type nameplateInfo struct {
	ID string `json:"id"`
}

// welcome is the server's first message. Every key is optional.
type welcome struct {
	MOTD  string `json:"motd,omitempty"`
	Error string `json:"error,omitempty"`
	// PermissionRequired lists the ways a client may prove it deserves
	// service (newer servers): "none", "hashcash".
	PermissionRequired map[string]json.RawMessage `json:"permission-required,omitempty"`
}

// decodeMessage parses one message from the server. A "message" must
// carry a side, a phase and a hex body.
func decodeMessage(data []byte) (serverMsg, error) {
	var m serverMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return serverMsg{}, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if m.Type == "" {
		return serverMsg{}, fmt.Errorf("%w: a message without a type", ErrProtocol)
	}
	if m.Type == "message" {
		if m.Side == "" || m.Phase == "" {
			return serverMsg{}, fmt.Errorf("%w: a message without side or phase", ErrProtocol)
		}
		if _, err := hex.DecodeString(m.Body); err != nil {
			return serverMsg{}, fmt.Errorf("%w: a message body that is not hex", ErrProtocol)
		}
	}
	return m, nil
}

// body returns a "message"'s body, which decodeMessage checked.
func (m serverMsg) body() []byte {
	b, _ := hex.DecodeString(m.Body)
	return b
}

// client is one connection to a mailbox server, bound to p2pcam's appid
// with a random side. One goroutine reads the connection; the rest of the
// client is used by one goroutine at a time.
type client struct {
	url  string
	side string
	ws   *websocket.Conn
	log  *slog.Logger

	in       chan serverMsg // from the reader; closed when it ends
	readErr  error          // why the reader ended; set before in is closed
	stop     context.CancelFunc
	readDone chan struct{}

	pending map[string]serverMsg // the other side's messages by phase, as they came

	sent, received atomic.Int64 // bytes of WebSocket payload
	closeOnce      sync.Once
}

// dial connects to the server at url, reads its welcome and binds.
// Errors are *ServerError.
func dial(ctx context.Context, url string, log *slog.Logger) (*client, error) {
	side := make([]byte, 8)
	if _, err := rand.Read(side); err != nil {
		return nil, fmt.Errorf("choose side: %w", err)
	}
	ws, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if resp != nil {
			// Something answered, but not as a WebSocket server.
			return nil, &ServerError{URL: url, Err: fmt.Errorf("%w: %v", ErrProtocol, err)}
		}
		// The dial's own error is the useful part ("connect: connection
		// refused"), not the WebSocket library's wrapping of it.
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe
		}
		return nil, &ServerError{URL: url, Err: fmt.Errorf("%w: %w", ErrUnreachable, err)}
	}
	ws.SetReadLimit(maxMessage)
	rctx, stop := context.WithCancel(context.Background())
	c := &client{
		url:      url,
		side:     hex.EncodeToString(side),
		ws:       ws,
		log:      log,
		in:       make(chan serverMsg, 16),
		stop:     stop,
		readDone: make(chan struct{}),
	}
	go c.read(rctx)
	if err := c.hello(ctx); err != nil {
		c.hangUp()
		return nil, err
	}
	return c, nil
}

// read hands the server's messages to in until the connection ends.
func (c *client) read(ctx context.Context) {
	defer close(c.readDone)
	defer close(c.in)
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			c.readErr = err
			return
		}
		c.received.Add(int64(len(data)))
		m, err := decodeMessage(data)
		if err != nil {
			c.readErr = err
			return
		}
		c.log.Debug("rendezvous: received", "type", m.Type, "phase", m.Phase, "side", m.Side, "bytes", len(data))
		select {
		case c.in <- m:
		case <-ctx.Done():
			c.readErr = ctx.Err()
			return
		}
	}
}

// hello reads the welcome, answers a request for permission when none is
// needed, and binds to p2pcam's appid.
func (c *client) hello(ctx context.Context) error {
	m, err := c.next(ctx)
	if err != nil {
		return err
	}
	if m.Type != "welcome" || m.Welcome == nil {
		return c.fail(ErrProtocol, "", fmt.Errorf("expected a welcome, got %q", m.Type))
	}
	w := m.Welcome
	if w.Error != "" {
		return c.fail(ErrRefused, w.Error, nil)
	}
	if w.MOTD != "" {
		c.log.Info("rendezvous server: message of the day", "motd", w.MOTD)
	}
	if w.PermissionRequired != nil {
		if _, ok := w.PermissionRequired["none"]; !ok {
			if _, ok := w.PermissionRequired["hashcash"]; ok {
				return c.fail(ErrProofOfWork, "", nil)
			}
			return c.fail(ErrRefused, "it asks for a permission p2pcam cannot give", nil)
		}
		if err := c.send(ctx, map[string]any{"type": "submit-permissions", "method": "none"}); err != nil {
			return err
		}
	}
	return c.send(ctx, map[string]any{
		"type":           "bind",
		"appid":          AppID,
		"side":           c.side,
		"client_version": []string{"p2pcam", "sdp-v1"},
	})
}

// fail makes a *ServerError for this server.
func (c *client) fail(sentinel error, message string, cause error) error {
	err := sentinel
	if cause != nil {
		err = fmt.Errorf("%w: %v", sentinel, cause)
	}
	return &ServerError{URL: c.url, Message: message, Err: err}
}

// send writes one message to the server, with a random id as clients do.
func (c *client) send(ctx context.Context, fields map[string]any) error {
	id := make([]byte, 2)
	_, _ = rand.Read(id)
	fields["id"] = hex.EncodeToString(id)
	data, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encode %v message: %w", fields["type"], err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.fail(ErrServerGone, "", err)
	}
	c.sent.Add(int64(len(data)))
	c.log.Debug("rendezvous: sent", "type", fields["type"], "phase", fields["phase"], "bytes", len(data))
	return nil
}

// add puts one message of phase into the open mailbox.
func (c *client) add(ctx context.Context, phase string, body []byte) error {
	return c.send(ctx, map[string]any{"type": "add", "phase": phase, "body": hex.EncodeToString(body)})
}

// next returns the server's next message other than an ack. An "error"
// from the server becomes an error: ErrCrowded for a nameplate or mailbox
// two sides already hold, ErrProtocol otherwise. A dropped connection is
// ErrServerGone.
func (c *client) next(ctx context.Context) (serverMsg, error) {
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				if errors.Is(c.readErr, ErrProtocol) {
					return serverMsg{}, &ServerError{URL: c.url, Err: c.readErr}
				}
				return serverMsg{}, c.fail(ErrServerGone, "", c.readErr)
			}
			switch m.Type {
			case "ack":
				continue
			case "error":
				switch m.Error {
				case "crowded":
					return serverMsg{}, ErrCrowded
				case "reclaimed":
					return serverMsg{}, fmt.Errorf("%w (this side released it before)", ErrCrowded)
				}
				return serverMsg{}, c.fail(ErrProtocol, m.Error, nil)
			}
			return m, nil
		case <-ctx.Done():
			return serverMsg{}, ctx.Err()
		}
	}
}

// await returns the next message of type typ, keeping the other side's
// messages that arrive meanwhile for phase.
func (c *client) await(ctx context.Context, typ string) (serverMsg, error) {
	for {
		m, err := c.next(ctx)
		if err != nil {
			return serverMsg{}, err
		}
		if m.Type == typ {
			return m, nil
		}
		c.keep(m)
	}
}

// keep files a message of the other side's by phase; the first of each
// phase counts (the server neither orders nor de-duplicates them).
func (c *client) keep(m serverMsg) {
	if m.Type != "message" || m.Side == c.side {
		return // this side's own, echoed
	}
	if c.pending == nil {
		c.pending = map[string]serverMsg{}
	}
	if _, ok := c.pending[m.Phase]; !ok {
		c.pending[m.Phase] = m
	}
}

// kept returns the other side's message of phase when it has come, and
// its error message, which overrides any phase, when that has.
func (c *client) kept(phase string) (serverMsg, bool) {
	if m, ok := c.pending[phaseError]; ok {
		return m, true
	}
	m, ok := c.pending[phase]
	return m, ok
}

// phase waits for the other side's message of phase, or its error
// message, whichever comes first.
func (c *client) phase(ctx context.Context, phase string) (serverMsg, error) {
	for {
		if m, ok := c.kept(phase); ok {
			return m, nil
		}
		m, err := c.next(ctx)
		if err != nil {
			return serverMsg{}, err
		}
		c.keep(m)
	}
}

// claim claims nameplate and opens its mailbox.
func (c *client) claim(ctx context.Context, nameplate string) error {
	if err := c.send(ctx, map[string]any{"type": "claim", "nameplate": nameplate}); err != nil {
		return err
	}
	m, err := c.await(ctx, "claimed")
	if err != nil {
		return err
	}
	if m.Mailbox == "" {
		return c.fail(ErrProtocol, "", errors.New("claimed without a mailbox"))
	}
	return c.send(ctx, map[string]any{"type": "open", "mailbox": m.Mailbox})
}

// sync waits until the server has handled every message sent so far,
// which, after an open, includes sending the mailbox's old messages.
func (c *client) sync(ctx context.Context) error {
	if err := c.send(ctx, map[string]any{"type": "ping", "ping": 1}); err != nil {
		return err
	}
	_, err := c.await(ctx, "pong")
	return err
}

// goodbye releases the nameplate (when claimed) and closes the mailbox
// with mood ("happy", "lonely", "scary" or "errory"), waits briefly for
// the server to confirm, and hangs up. It is idempotent.
func (c *client) goodbye(claimed bool, mood string) {
	c.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		c.log.Debug("rendezvous: closing", "mood", mood)
		if claimed {
			if c.send(ctx, map[string]any{"type": "release"}) == nil {
				_, _ = c.await(ctx, "released")
			}
		}
		if c.send(ctx, map[string]any{"type": "close", "mood": mood}) == nil {
			_, _ = c.await(ctx, "closed")
		}
		c.hangUp()
	})
}

// hangUp closes the connection and waits for the reader to end.
func (c *client) hangUp() {
	_ = c.ws.CloseNow()
	c.stop()
	<-c.readDone
}
