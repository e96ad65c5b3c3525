package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// chromiumAt is headless Chromium showing a page it loaded by URL (a page
// p2pcam serves, not one of the test's), driven through the DevTools
// protocol so the test can evaluate JavaScript in it.
type chromiumAt struct {
	t      *testing.T
	ws     *websocket.Conn
	mu     sync.Mutex
	nextID int
}

// openChromium opens url in headless Chromium, killed when the test ends.
func openChromium(t *testing.T, ctx context.Context, url string) *chromiumAt {
	t.Helper()
	return openChromiumWith(t, ctx, url)
}

// openChromiumWith is openChromium with more flags (audible among them:
// Chromium's sound goes to the sound server).
func openChromiumWith(t *testing.T, ctx context.Context, url string, flags ...string) *chromiumAt {
	t.Helper()
	chrome := launchChromium(t, url, "", append([]string{
		"--allow-loopback-in-peer-connection",
		// Raw IP candidates: without a camera permission Chromium would
		// offer .local names only, and none on loopback.
		"--disable-features=WebRtcHideLocalIpsWithMdns",
		"--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1"}, flags...)...)
	c := &chromiumAt{t: t}
	t.Cleanup(func() {
		if c.ws != nil {
			c.ws.Close()
		}
	})
	// Chromium says where DevTools listens on its stderr.
	re := regexp.MustCompile(`DevTools listening on ws://127\.0\.0\.1:(\d+)/`)
	var p string
	for p == "" {
		if m := re.FindStringSubmatch(chrome.logText()); m != nil {
			p = m[1]
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("chromium never opened its DevTools port")
		case <-chrome.exited:
			t.Fatal("chromium exited before opening its DevTools port")
		case <-time.After(50 * time.Millisecond):
		}
	}
	// The page's own DevTools socket, from the target list.
	var targets []struct{ Type, URL, WebSocketDebuggerURL string }
	for {
		res, err := http.Get("http://127.0.0.1:" + p + "/json/list")
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&targets)
			res.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && tg.URL == url {
				if c.ws, err = websocket.Dial(tg.WebSocketDebuggerURL, "", "http://127.0.0.1"); err != nil {
					t.Fatalf("devtools: %v", err)
				}
				return c
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("chromium never showed %s: %v %+v", url, err, targets)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// eval evaluates expr in the page (awaiting a promise) into v.
func (c *chromiumAt) eval(expr string, v any) error {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	req := map[string]any{"id": id, "method": "Runtime.evaluate", "params": map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true}}
	if err := websocket.JSON.Send(c.ws, req); err != nil {
		return err
	}
	for {
		var res struct {
			ID     int `json:"id"`
			Result struct {
				Result struct {
					Value json.RawMessage `json:"value"`
				} `json:"result"`
				ExceptionDetails *struct {
					Text string `json:"text"`
				} `json:"exceptionDetails"`
			} `json:"result"`
		}
		if err := websocket.JSON.Receive(c.ws, &res); err != nil {
			if err == io.EOF {
				return fmt.Errorf("devtools closed")
			}
			return err
		}
		if res.ID != id {
			continue // an event
		}
		if e := res.Result.ExceptionDetails; e != nil {
			return fmt.Errorf("page: %s", e.Text)
		}
		return json.Unmarshal(res.Result.Result.Value, v)
	}
}
