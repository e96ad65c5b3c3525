package debugserve

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "localhost:0", "192.0.2.1:0", "example.com:80"} {
		t.Run(addr, func(t *testing.T) {
			_, stop, err := Start(addr)
			if err == nil {
				stop()
				t.Fatalf("Start(%q) served", addr)
			}
			if !errors.Is(err, ErrNotLoopback) {
				t.Fatalf("Start(%q): %v, want ErrNotLoopback", addr, err)
			}
		})
	}
	if _, _, err := Start("127.0.0.1"); err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Start without a port: %v, want one line", err)
	}
}

func TestServesOnLoopback(t *testing.T) {
	addr, stop, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := http.Get("http://" + addr + "/debug/mem")
	if err != nil {
		t.Fatal(err)
	}
	var m Mem
	err = json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, glibc := cMalloc(); m.RSS <= 0 || m.RSSAnon <= 0 || (glibc && m.CInuse <= 0) || m.RSSAnon > m.RSS || m.HeapInuse == 0 || m.Goroutines < 2 || m.Threads < 1 {
		t.Fatalf("implausible figures: %+v", m)
	}
	res, err = http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("heap profile: %s: %.200s", res.Status, body)
	}
}
