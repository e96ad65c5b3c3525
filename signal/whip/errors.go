package whip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// Sentinel errors. Errors returned by Client match them with errors.Is;
// each message reads as the tail of a one-line report.
var (
	// ErrUnauthorized means the server answered 401 or 403: the token is
	// missing, wrong, or lacks the permission for this stream.
	ErrUnauthorized = errors.New("the server refused the credentials")
	// ErrNotFound means the server answered 404: no such endpoint, or (for
	// WHEP) nothing is being published on that stream.
	ErrNotFound = errors.New("the server has no such stream")
	// ErrConflict means the server answered 409: typically someone else is
	// already publishing on that stream.
	ErrConflict = errors.New("the stream is already in use")
	// ErrServer means the server answered with a 5xx status.
	ErrServer = errors.New("the server failed")
	// ErrUnreachable means no HTTP exchange took place: the connection was
	// refused, the name did not resolve, or the network is unreachable. The
	// underlying net error is wrapped too.
	ErrUnreachable = errors.New("cannot reach the server")
	// ErrTLS means the TLS handshake failed: an untrusted or mismatched
	// certificate, or an endpoint that does not speak TLS.
	ErrTLS = errors.New("tls handshake with the server failed")
	// ErrProtocol means the server answered, but not as WHIP/WHEP
	// prescribes (RFC 9725 §4.2): a success status other than 201 Created, no
	// Location header, or a body that is not an SDP answer.
	ErrProtocol = errors.New("the server does not follow whip/whep")
	// ErrMediaRejected means the server's answer rejects a media section
	// of the offer, audio or video (port 0, RFC 8866 §5.14, RFC 3264 §6):
	// it accepts none of the codecs offered for it. The error returned
	// names the kind of media.
	ErrMediaRejected = errors.New("the server accepts none of the offered codecs")
	// ErrTimeout means the server took longer than Client.Timeout to
	// answer in full, or a transport timeout (connecting, the TLS
	// handshake, the response's headers) passed.
	ErrTimeout = errors.New("the server did not answer in time")
	// ErrClosed means the Client was closed before or during the call.
	ErrClosed = errors.New("whip session closed")
	// ErrActive means Exchange was called while a previous session is still
	// open; Close it first.
	ErrActive = errors.New("a whip session is already open")
)

// HTTPError reports a response whose status is not what the request
// expects. It matches ErrUnauthorized (401, 403), ErrNotFound (404),
// ErrConflict (409), ErrServer (5xx) or ErrProtocol (other 1xx-3xx) with
// errors.Is.
type HTTPError struct {
	// Method is the request's method: POST, OPTIONS or DELETE.
	Method string
	// Status is the response's status code.
	Status int
	// Message is the start of the response body, on one line, when the
	// server sent text; it never contains the client's token.
	Message string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("server answered %d %s", e.Status, strings.ToLower(http.StatusText(e.Status)))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is reports whether target is the sentinel for e's status.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrServer:
		return e.Status >= 500 && e.Status <= 599
	case ErrProtocol:
		return e.Status < 400
	}
	return false
}

// classify wraps a transport error from http.Client.Do with ErrTLS or
// ErrUnreachable when it is one of those; other errors (a cancelled
// context, a timeout) come back as they are.
func classify(err error) error {
	var (
		certErr    *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		dnsErr     *net.DNSError
		opErr      *net.OpError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return fmt.Errorf("%w: %w", ErrTLS, err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http replaces the tls.RecordHeaderError with a plain error.
		return fmt.Errorf("%w: %w", ErrTLS, err)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	case errors.As(err, &opErr) && opErr.Op == "dial" && !errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		// The server closed a kept-alive connection before answering:
		// it went away (stopped, restarted), and no exchange took place.
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return err
}

// redactedError hides a secret that a wrapped error's text may carry (an
// endpoint URL with the token in its query, a server echoing a header).
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "<redacted>")
}

func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so that its text never shows secret.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{err: err, secret: secret}
}
