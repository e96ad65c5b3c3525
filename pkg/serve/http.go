package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// limits bound what one HTTP client can hold without the token: the server
// is meant to sit behind a router's port forward. Config's zero value
// uses defaultLimits; tests shorten them.
type limits struct {
	// readHeader bounds reading a request's headers; a connection that
	// sends nothing is closed after it.
	readHeader time.Duration
	// read bounds reading a whole request, body included: an offer is
	// small, so a slow body is an attack.
	read time.Duration
	// write bounds writing the answer, gathering included.
	write time.Duration
	// idle closes a keep-alive connection that sends no next request.
	idle time.Duration
	// headerBytes bounds a request's headers.
	headerBytes int
	// conns caps open connections: beyond it, new ones wait in the
	// kernel's queue until one closes (at worst after readHeader or idle).
	conns int
}

var defaultLimits = limits{
	readHeader:  5 * time.Second,
	read:        10 * time.Second,
	write:       15 * time.Second,
	idle:        10 * time.Second,
	headerBytes: 8 << 10,
	conns:       64,
}

// orDefault fills l's zero fields from defaultLimits.
func (l limits) orDefault() limits {
	d := defaultLimits
	if l.readHeader > 0 {
		d.readHeader = l.readHeader
	}
	if l.read > 0 {
		d.read = l.read
	}
	if l.write > 0 {
		d.write = l.write
	}
	if l.idle > 0 {
		d.idle = l.idle
	}
	if l.headerBytes > 0 {
		d.headerBytes = l.headerBytes
	}
	if l.conns > 0 {
		d.conns = l.conns
	}
	return d
}

// httpServer is the HTTP server for h on ctx, with l's limits; what
// net/http has to say about clients (bad requests, timeouts) goes to log
// at debug level.
func httpServer(ctx context.Context, h http.Handler, l limits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.headerBytes,
		// Requests end with serving: an answer being gathered stops.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// capListener holds at most n connections open: Accept waits for one to
// close before taking the next. Close ends a waiting Accept.
type capListener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
}

func newCapListener(ln net.Listener, n int) *capListener {
	return &capListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

func (l *capListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &capConn{Conn: c, free: func() { <-l.slots }}, nil
}

func (l *capListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// capConn gives its slot back once, when closed.
type capConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// gate checks the token before anything else answers: a request whose
// first path element is not the token gets the same 404 page whatever its
// method or the rest of its path, so the routes behind it stay unseen.
// Every answer carries headers that keep it out of frames, caches and
// content sniffing.
func (s *server) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		tok, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) != 1 {
			notValid(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// notValidPage is what a wrong link shows: words, not Go's bare 404.
const notValidPage = `<!doctype html>
<meta charset="utf-8">
<title>p2pcam: this link is not valid</title>
<p>This link is not valid. Ask whoever runs the camera for its current link.
`

// notValid answers 404 with notValidPage.
func notValid(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(notValidPage))
}

// pagePolicy is the page's Content-Security-Policy: its one inline script
// and one inline style, by hash (CSP3 §8.4), fetches to its own origin
// only, never framed.
func pagePolicy(page []byte) string {
	hashes := func(tag string) string {
		var out []string
		for _, body := range inline(page, tag) {
			sum := sha256.Sum256(body)
			out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		if len(out) == 0 {
			return "'none'"
		}
		return strings.Join(out, " ")
	}
	return "default-src 'none'; script-src " + hashes("script") + "; style-src " + hashes("style") +
		"; connect-src 'self'; media-src 'self' blob: mediastream:; img-src 'self' data:" +
		"; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}

// inline returns the contents of every <tag>…</tag> element in page, as
// the browser hashes them: the exact bytes between the tags. Comments are
// skipped.
func inline(page []byte, tag string) [][]byte {
	var out [][]byte
	page = uncommented(page)
	open, end := []byte("<"+tag+">"), []byte("</"+tag+">")
	for {
		i := bytes.Index(page, open)
		if i < 0 {
			return out
		}
		page = page[i+len(open):]
		j := bytes.Index(page, end)
		if j < 0 {
			return out
		}
		out = append(out, page[:j])
		page = page[j+len(end):]
	}
}

// uncommented is page without its <!-- comments -->.
func uncommented(page []byte) []byte {
	var out []byte
	for {
		i := bytes.Index(page, []byte("<!--"))
		if i < 0 {
			return append(out, page...)
		}
		out = append(out, page[:i]...)
		j := bytes.Index(page[i:], []byte("-->"))
		if j < 0 {
			return out
		}
		page = page[i+j+3:]
	}
}
