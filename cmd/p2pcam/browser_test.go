package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// browserPeer is headless Chromium running one of testdata/browser's
// pages, served by a small HTTP server on loopback through which the page
// and the test swap blobs and the page reports what it sees.
type browserPeer struct {
	t      *testing.T
	mu     sync.Mutex
	remote string // the blob for the page
	blob   chan string
	stats  chan map[string]any
	logs   []string
}

func (b *browserPeer) log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.logs, "\n")
}

// startBrowser serves page and opens it in Chromium, which is killed (with
// its children) when the test ends.
func startBrowser(t *testing.T, page string) *browserPeer {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed: apt-get install -y chromium")
	}
	b := &browserPeer{t: t, blob: make(chan string, 1), stats: make(chan map[string]any, 64)}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir("testdata/browser")))
	mux.HandleFunc("GET /remote", func(w http.ResponseWriter, _ *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		io.WriteString(w, b.remote)
	})
	read := func(r *http.Request) string {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		return string(body)
	}
	mux.HandleFunc("POST /blob", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case b.blob <- read(r):
		default:
		}
	})
	mux.HandleFunc("POST /stats", func(_ http.ResponseWriter, r *http.Request) {
		var st map[string]any
		if json.Unmarshal([]byte(read(r)), &st) == nil {
			select {
			case b.stats <- st:
			default:
			}
		}
	})
	mux.HandleFunc("POST /log", func(_ http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.logs = append(b.logs, read(r))
		b.mu.Unlock()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	cmd := exec.Command(chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
		"--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--no-default-browser-check", "--mute-audio",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"http://"+ln.Addr().String()+"/"+page)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("browser page log:\n%s", b.log())
		}
	})
	return b
}

func (b *browserPeer) setRemote(blob string) {
	b.mu.Lock()
	b.remote = strings.TrimSpace(blob)
	b.mu.Unlock()
}

func (b *browserPeer) pageBlob(ctx context.Context) string {
	b.t.Helper()
	select {
	case s := <-b.blob:
		return s
	case <-ctx.Done():
		b.t.Fatalf("the page produced no blob\n%s", b.log())
	}
	return ""
}

// TestBrowserOffersP2pcamAnswers: a browser page's pion-format offer goes
// into `p2pcam answer`, whose answer comes back in the same format; the
// browser's fake camera ends up in p2pcam's recording.
func TestBrowserOffersP2pcamAnswers(t *testing.T) {
	needFFmpeg(t)
	b := startBrowser(t, "offer.html")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	answer := start(t, ctx, "answer", false, append([]string{"answer", "-o", "browser.webm", "--duration", "4s"}, loopback...)...)
	answer.paste(b.pageBlob(ctx))
	blob := answer.blob(ctx)
	if strings.HasPrefix(blob, "p2pcam1:") {
		t.Fatalf("the browser's pion-format offer got a compact answer it cannot read: %q", blob)
	}
	b.setRemote(blob)
	if code := answer.wait(ctx); code != 0 {
		t.Fatalf("answer exited %d\n%s", code, answer.errText())
	}
	codec, w, h, frames := probe(t, filepath.Join(answer.cmd.Dir, "browser.webm"))
	if codec != "vp8" || w != 640 || h != 480 || frames < 30 {
		t.Fatalf("recording of the browser's camera: %s %dx%d %d frames", codec, w, h, frames)
	}
	decodesCleanly(t, filepath.Join(answer.cmd.Dir, "browser.webm"))
}

// TestP2pcamOffersBrowserAnswers: `p2pcam offer --blob-format pion` gives
// a browser page a blob it can answer, and the browser decodes the video.
func TestP2pcamOffersBrowserAnswers(t *testing.T) {
	b := startBrowser(t, "answer.html")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offer := start(t, ctx, "offer", false, append([]string{"offer", "--source", "test", "--blob-format", "pion", "--duration", "8s"}, loopback...)...)
	b.setRemote(offer.blob(ctx))
	offer.paste(b.pageBlob(ctx))
	for {
		select {
		case st := <-b.stats:
			frames, _ := st["framesDecoded"].(float64)
			if frames >= 30 {
				if st["frameWidth"] != 640.0 || st["frameHeight"] != 480.0 || st["codec"] != "video/VP8" {
					t.Fatalf("the browser decodes %v", st)
				}
				return
			}
		case <-ctx.Done():
			t.Fatalf("the browser never decoded 30 frames\noffer:\n%s\npage:\n%s", offer.errText(), b.log())
		}
	}
}
