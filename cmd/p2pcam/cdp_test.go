package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
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
	log    []byte
}

// openChromium opens url in headless Chromium, killed when the test ends.
func openChromium(t *testing.T, ctx context.Context, url string) *chromiumAt {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed: apt-get install -y chromium")
	}
	// Not t.TempDir: Chromium's socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("/tmp", "p2pchrome")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--no-default-browser-check", "--mute-audio",
		// Raw IP candidates: without a camera permission Chromium would
		// offer .local names only, and none on loopback.
		"--disable-features=WebRtcHideLocalIpsWithMdns",
		"--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1", "--user-data-dir="+filepath.Join(dir, "profile"), url)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	c := &chromiumAt{t: t}
	port := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`DevTools listening on ws://127\.0\.0\.1:(\d+)/`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.log = append(c.log, sc.Bytes()...)
			c.log = append(c.log, '\n')
			if over := len(c.log) - 16<<10; over > 0 {
				c.log = c.log[over:]
			}
			c.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		if c.ws != nil {
			c.ws.Close()
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		os.RemoveAll(dir)
		if t.Failed() {
			c.mu.Lock()
			t.Logf("chromium's log:\n%s", c.log)
			c.mu.Unlock()
		}
	})
	var p string
	select {
	case p = <-port:
	case <-ctx.Done():
		t.Fatal("chromium never opened its DevTools port")
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
