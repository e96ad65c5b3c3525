// Package debugserve serves a running p2pcam's runtime figures over HTTP on
// loopback, for soak runs that sample a process for an hour: /debug/mem
// (resident memory from /proc, the Go heap, goroutines, collections) as
// JSON, and net/http/pprof's profiles under /debug/pprof/.
//
// It is off unless the P2PCAM_DEBUG_ADDR environment variable names a
// loopback address (see Start); nothing else in p2pcam imports it.
package debugserve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Env is the environment variable that turns the endpoint on.
const Env = "P2PCAM_DEBUG_ADDR"

// ErrNotLoopback is returned for an address that could reach beyond this
// machine: the profiles show memory contents and cost CPU, so they are
// never offered to a network.
var ErrNotLoopback = errors.New("not a loopback address (use 127.0.0.1:PORT or [::1]:PORT)")

// Mem is what /debug/mem answers. Sizes are bytes.
type Mem struct {
	// RSS is the resident set (VmRSS); RSSAnon its anonymous part
	// (RssAnon: heap, stacks, C allocations), RSSFile its file-backed
	// part (the binary and libraries).
	RSS, RSSAnon, RSSFile int64
	// HeapInuse is the Go heap's spans in use; HeapAlloc the live and
	// not yet collected objects; HeapIdle spans held but unused,
	// HeapReleased the part of that given back to the OS.
	HeapInuse, HeapAlloc, HeapIdle, HeapReleased uint64
	// StackInuse is goroutine stacks; Sys everything the Go runtime
	// got from the OS.
	StackInuse, Sys uint64
	Goroutines      int
	NumGC           uint32
	// Threads is the process's OS threads (from /proc).
	Threads int
	// CInuse is what C code holds through glibc's malloc in its arenas,
	// CMmapped what it holds in blocks mapped on their own (large ones:
	// libvpx's frame buffers), CFree the free bytes malloc keeps in its
	// arenas; all zero without cgo or glibc.
	CInuse, CFree, CMmapped int64
}

// Read takes the figures of this process now.
func Read() (Mem, error) {
	var m Mem
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return m, fmt.Errorf("reading resident memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "RssAnon":
			m.RSSAnon = n << 10
		case "RssFile":
			m.RSSFile = n << 10
		case "Threads":
			m.Threads = int(n)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapInuse, m.HeapAlloc, m.HeapIdle, m.HeapReleased = ms.HeapInuse, ms.HeapAlloc, ms.HeapIdle, ms.HeapReleased
	m.StackInuse, m.Sys, m.NumGC = ms.StackInuse, ms.Sys, ms.NumGC
	m.Goroutines = runtime.NumGoroutine()
	m.CInuse, m.CFree, m.CMmapped, _ = cMalloc()
	return m, nil
}

// Handler serves /debug/mem and /debug/pprof/.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/mem", func(w http.ResponseWriter, r *http.Request) {
		m, err := Read()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// ProfileRate is the heap profile's sampling rate once Start has
// succeeded: one sample per 16 KiB allocated (Go's default is 512 KiB),
// fine enough to tell where a few hundred KiB of growth sit in p2pcam's
// small heap.
const ProfileRate = 16 << 10

// Start serves Handler on addr, which must be a loopback IP and a port
// (port 0 picks one); it returns the address it listens on and a function
// that stops serving. A name such as localhost is refused too: it is
// resolved, and could resolve elsewhere. It sets runtime.MemProfileRate to
// ProfileRate, so call it before the work to be profiled.
func Start(addr string) (string, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s=%q: %w", Env, addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", nil, fmt.Errorf("%s=%q: %w", Env, addr, ErrNotLoopback)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", Env, err)
	}
	runtime.MemProfileRate = ProfileRate
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return ln.Addr().String(), stop, nil
}
