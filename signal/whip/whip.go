// Package whip is the HTTP side of WHIP (RFC 9725) and WHEP
// (draft-ietf-wish-whep): it carries p2pcam's offer to a media server and
// brings back the server's answer, in place of a pasted blob. It sits
// beside package signal, below pkg/session: session builds the offer with
// pkg/peer and hands it to Client.Exchange; Client.Close ends the server's
// session.
//
// WHIP (publishing) and WHEP (playing) share this exchange: the client
// POSTs an SDP offer, the server answers 201 Created with the SDP answer
// and a Location header naming the session's resource, and a DELETE of
// that resource ends the session. Only the URL differs. Trickle ICE and
// ICE restarts (PATCH) are not used: the offer is sent after gathering
// completes.
package whip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// MaxAnswerSize bounds the SDP answer read from a server. An answer for
// one video track with a full candidate list is a few KiB.
const MaxAnswerSize = 64 << 10

// maxMessageSize bounds the part of an error body quoted in HTTPError.
const maxMessageSize = 200

// deleteTimeout bounds the DELETE that Exchange sends on its own when a
// session it created turns out unusable.
const deleteTimeout = 5 * time.Second

// DefaultTimeout bounds one exchange as a whole (Post, ICEServers), from
// the connection to the last byte of the answer, when Client.Timeout is
// zero: a server that never answers, or drips its answer, cannot hold
// p2pcam for ever.
const DefaultTimeout = 30 * time.Second

// maxRedirects is how many 307/308 redirects one request follows.
const maxRedirects = 3

// Transport limits of the client used when Client.HTTP is nil.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 20 * time.Second
)

// Client talks to one WHIP or WHEP endpoint and holds at most one session
// on it. Set its fields before the first call and do not change them
// afterwards. Its methods are safe for concurrent use: Close may be called
// while Exchange is in flight, and the session Exchange then creates is
// deleted at once. A Client must not be copied after first use.
type Client struct {
	// Endpoint is the WHIP or WHEP endpoint URL, for example
	// http://127.0.0.1:8889/cam/whip.
	Endpoint string
	// Token, when set, is sent as "Authorization: Bearer TOKEN" (RFC 9725
	// §4.5, RFC 6750) on every request to the endpoint's own origin
	// (scheme, host and port): never to another host that a Location
	// header or a redirect names. It never appears in errors.
	Token string
	// HTTP is the client requests go through; nil means one with dial,
	// TLS handshake and response header timeouts. Its Timeout, if any,
	// applies per request. Either way, only 307 and 308 redirects are
	// followed (they keep the method and the offer, RFC 9110 §15.4), at
	// most 3 of them.
	HTTP *http.Client
	// Timeout bounds Post and ICEServers each as a whole, the answer's
	// body included; zero means DefaultTimeout.
	Timeout time.Duration

	mu       sync.Mutex
	resource *url.URL // the session's URL, nil when none is open
	inFlight bool     // an Exchange is between its POST and its result
	closed   bool

	hcOnce sync.Once
	hc     *http.Client // HTTP, or the default, with the redirect policy
}

// Answer is what a server returned for an offer.
type Answer struct {
	// SDP is the server's answer.
	SDP webrtc.SessionDescription
	// Location is the session's resource URL (absolute), the target of
	// Close's DELETE.
	Location *url.URL
	// ICEServers are the STUN/TURN servers the server announced in Link
	// headers with rel="ice-server" (RFC 9725 §4.6), possibly none.
	ICEServers []webrtc.ICEServer
	// ETag is the session's entity tag, if the server sent one.
	ETag string
}

// Exchange POSTs offer to the endpoint and returns the server's answer. It
// is Post without the session's details.
func (c *Client) Exchange(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	a, err := c.Post(ctx, offer)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	return a.SDP, nil
}

// Post sends offer (its SDP as application/sdp, RFC 9725 §4.2) and waits
// for 201 Created with an SDP answer and a Location header. Any other
// status is an *HTTPError; transport failures match ErrUnreachable or
// ErrTLS; a response without Location or an SDP answer matches
// ErrProtocol; an answer that rejects an audio or video section matches
// ErrMediaRejected. When the server created a session that turns out
// unusable (the last two cases), Post deletes it before returning.
//
// Cancelling ctx abandons the request. One Client holds one session:
// Post returns ErrActive while a session is open and ErrClosed after
// Close.
func (c *Client) Post(ctx context.Context, offer webrtc.SessionDescription) (*Answer, error) {
	a, err := c.post(ctx, offer)
	return a, redact(c.timedOut(ctx, err), c.Token)
}

// timedOut marks err with ErrTimeout when it is the exchange's own
// deadline or a transport timeout, not the caller's ctx, that ended it.
func (c *Client) timedOut(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w (%v): %w", ErrTimeout, c.timeout(), err)
	}
	return err
}

func (c *Client) post(ctx context.Context, offer webrtc.SessionDescription) (*Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if offer.Type != webrtc.SDPTypeOffer {
		return nil, fmt.Errorf("post offer: session description is an %s, not an offer", offer.Type)
	}
	endpoint, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return nil, ErrClosed
	case c.resource != nil || c.inFlight:
		c.mu.Unlock()
		return nil, ErrActive
	}
	c.inFlight = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight = false
		c.mu.Unlock()
	}()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), strings.NewReader(offer.SDP))
	if err != nil {
		return nil, fmt.Errorf("post offer: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Accept", "application/sdp")
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("post offer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("post offer: %w", c.statusError(resp))
	}

	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("post offer: %w: 201 created without a location header", ErrProtocol)
	}
	// RFC 9725 §4.2: a relative Location resolves against the URL that
	// was answered, the endpoint's or a redirect's.
	resource, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("post offer: %w: location header is not a url", ErrProtocol)
	}
	a := &Answer{
		Location:   resource,
		ICEServers: parseICEServers(resp.Header.Values("Link")),
		ETag:       resp.Header.Get("ETag"),
	}
	// From here on the server holds a session: keep it for Close, or
	// delete it when the answer is unusable or Close came first.
	c.mu.Lock()
	closed := c.closed
	if !closed {
		c.resource = resource
	}
	c.mu.Unlock()
	if closed {
		c.deleteAfterFailure(ctx, resource)
		return nil, ErrClosed
	}
	answer, err := readAnswer(resp)
	if err == nil {
		err = checkAnswer(offer.SDP, answer)
	}
	if err != nil {
		c.mu.Lock()
		c.resource = nil
		c.mu.Unlock()
		c.deleteAfterFailure(ctx, resource)
		return nil, fmt.Errorf("post offer: %w", err)
	}
	a.SDP = webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}
	return a, nil
}

// ICEServers asks the endpoint for its ICE servers with an OPTIONS request
// (RFC 9725 §4.6), before an offer exists. Servers that announce none, or
// answer OPTIONS with 405, give an empty list and no error.
func (c *Client) ICEServers(ctx context.Context) ([]webrtc.ICEServer, error) {
	s, err := c.iceServers(ctx)
	return s, redact(c.timedOut(ctx, err), c.Token)
}

func (c *Client) iceServers(ctx context.Context) ([]webrtc.ICEServer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	endpoint, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, endpoint.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("ask for ice servers: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("ask for ice servers: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusMethodNotAllowed:
		return nil, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fmt.Errorf("ask for ice servers: %w", c.statusError(resp))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswerSize))
	return parseICEServers(resp.Header.Values("Link")), nil
}

// Close ends the session with a DELETE of its resource (RFC 9725 §4.3) and
// marks the Client closed. It is idempotent: without an open session, and
// on every call after the first, it sends nothing and returns nil. A 404
// counts as success (the server has already forgotten the session). The
// DELETE is sent once, even when it fails; ctx bounds it.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	resource := c.resource
	c.resource = nil
	c.closed = true
	c.mu.Unlock()
	if resource == nil {
		return nil
	}
	return redact(c.delete(ctx, resource), c.Token)
}

// deleteAfterFailure removes a session the caller will not get to use,
// even when ctx is already done.
func (c *Client) deleteAfterFailure(ctx context.Context, resource *url.URL) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	_ = c.delete(ctx, resource)
}

func (c *Client) delete(ctx context.Context, resource *url.URL) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, resource.String(), nil)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || (resp.StatusCode >= 200 && resp.StatusCode <= 299) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswerSize))
		return nil
	}
	return fmt.Errorf("end session: %w", c.statusError(resp))
}

// endpoint parses Endpoint, which must be an absolute http(s) URL.
func (c *Client) endpoint() (*url.URL, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("endpoint is not an http or https url")
	}
	return u, nil
}

// do sends req, with the bearer token when it goes to the endpoint's
// origin, and classifies transport errors.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	if c.Token != "" && c.ownOrigin(req.URL) {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, classify(err)
	}
	return resp, nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// client is HTTP (or a client with transport timeouts) with the redirect
// policy of checkRedirect.
func (c *Client) client() *http.Client {
	c.hcOnce.Do(func() {
		if c.HTTP != nil {
			hc := *c.HTTP
			c.hc = &hc
		} else {
			c.hc = &http.Client{Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
				TLSHandshakeTimeout:   tlsHandshakeTimeout,
				ResponseHeaderTimeout: responseHeaderTimeout,
				IdleConnTimeout:       30 * time.Second,
				MaxIdleConns:          4,
				ForceAttemptHTTP2:     true,
			}}
		}
		theirs := c.hc.CheckRedirect
		c.hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := c.checkRedirect(req, via); err != nil {
				return err
			}
			if theirs != nil {
				return theirs(req, via)
			}
			return nil
		}
	})
	return c.hc
}

// checkRedirect follows only 307 and 308, which keep the method and the
// body: a 301, 302 or 303 would turn the POST of an offer into a GET
// (RFC 9110 §15.4). It follows at most maxRedirects, and takes the bearer
// token off a request that leaves the endpoint's origin.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if req.Response != nil {
		if code := req.Response.StatusCode; code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect {
			return fmt.Errorf("%w: the server redirected with %d %s; only 307 and 308 keep the offer", ErrProtocol, code, strings.ToLower(http.StatusText(code)))
		}
	}
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrProtocol, maxRedirects)
	}
	if !c.ownOrigin(req.URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

// ownOrigin reports whether u has the endpoint's origin (RFC 6454):
// scheme, host and port alike.
func (c *Client) ownOrigin(u *url.URL) bool {
	e, err := c.endpoint()
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, e.Scheme) && strings.EqualFold(hostPort(u), hostPort(e))
}

// hostPort is u's host and port, the port filled in from the scheme.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// statusError builds the HTTPError for resp, quoting the start of a text
// body (mediamtx sends {"status":"error","error":"..."}).
func (c *Client) statusError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return &HTTPError{
		Method:  resp.Request.Method,
		Status:  resp.StatusCode,
		Message: c.message(resp.Header.Get("Content-Type"), body),
	}
}

// message turns an error body into one printable line without the token.
func (c *Client) message(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		if m := jsonErrorField(body); m != "" {
			body = []byte(m)
		}
	} else if mt != "" && !strings.HasPrefix(mt, "text/plain") {
		return "" // HTML pages and the like say nothing useful on one line
	}
	s := strings.Join(strings.FieldsFunc(string(body), func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r)
	}), " ")
	if c.Token != "" {
		s = strings.ReplaceAll(s, c.Token, "<redacted>")
	}
	if len(s) > maxMessageSize {
		s = strings.ToValidUTF8(s[:maxMessageSize], "") + "…"
	}
	return s
}

// jsonErrorField returns the "error" or "message" string of a JSON error
// body, or "".
func jsonErrorField(body []byte) string {
	var v struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	if s, ok := v.Error.(string); ok && s != "" {
		return s
	}
	return v.Message
}

// readAnswer reads the SDP answer body, bounded by MaxAnswerSize.
func readAnswer(resp *http.Response) (string, error) {
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/sdp" {
			return "", fmt.Errorf("%w: the answer is %q, not application/sdp", ErrProtocol, ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerSize+1))
	if err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	if len(body) > MaxAnswerSize {
		return "", fmt.Errorf("%w: the answer is larger than %d KiB", ErrProtocol, MaxAnswerSize>>10)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("v=")) {
		return "", fmt.Errorf("%w: the answer is not an sdp session description", ErrProtocol)
	}
	return string(body), nil
}

// checkAnswer parses answer and reports ErrMediaRejected when an audio or
// video section the offer proposed comes back with port 0 (RFC 3264 §6),
// and ErrProtocol when it is missing. A player's sound section
// (recvonly audio) may be rejected: the stream has no sound.
func checkAnswer(offer, answer string) error {
	var a sdp.SessionDescription
	if err := a.UnmarshalString(answer); err != nil {
		return fmt.Errorf("%w: the answer does not parse as sdp: %w", ErrProtocol, err)
	}
	var o sdp.SessionDescription
	if err := o.UnmarshalString(offer); err != nil {
		return nil // our own offer; pion made it, nothing to compare
	}
	for i, om := range o.MediaDescriptions {
		media := om.MediaName.Media
		if (media != "video" && media != "audio") || om.MediaName.Port.Value == 0 {
			continue
		}
		if i >= len(a.MediaDescriptions) {
			return fmt.Errorf("%w: the answer has fewer media sections than the offer", ErrProtocol)
		}
		am := a.MediaDescriptions[i]
		if _, bundleOnly := am.Attribute("bundle-only"); bundleOnly {
			continue // port 0 by RFC 8843 §7.3.1, carried on the bundle's transport
		}
		if _, recvOnly := om.Attribute("recvonly"); recvOnly && media == "audio" {
			continue
		}
		if am.MediaName.Media == media && am.MediaName.Port.Value == 0 {
			return fmt.Errorf("%w for %s", ErrMediaRejected, media)
		}
	}
	return nil
}

// ExchangeOffer is Exchange under the name a session's offering side
// calls: a Client carries a session's offer to the server as a pasted
// blob would carry it to a person.
func (c *Client) ExchangeOffer(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	return c.Exchange(ctx, offer)
}
