// Package mediamtx runs the mediamtx media server in tests, as the other
// end of WHIP and WHEP (signal/whip): it builds the server once into a
// cache shared by every test process and by scripts/mediamtx.sh, and
// starts one server per test on free loopback ports with a minimal
// configuration. Tests skip when the server cannot be built here.
package mediamtx

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Version is the mediamtx release the harness builds.
const Version = "v1.20.1"

// hlsJSVersion is the hls.js release mediamtx v1.20.1 embeds; its module
// zip leaves the file out, so the build fetches it from npm.
const hlsJSVersion = "1.7.0"

// EnvBinary names an environment variable that, when set, gives the path
// of a mediamtx binary to use instead of the cached build.
const EnvBinary = "P2PCAM_MEDIAMTX"

// EnvRequire names an environment variable that, when set to 1, turns a
// failed build into a test failure instead of a skip (for CI, where the
// build is expected to work).
const EnvRequire = "P2PCAM_REQUIRE_MEDIAMTX"

// buildMu serializes builds within one process; the lock file serializes
// them across processes.
var buildMu sync.Mutex

// CacheDir returns the directory the build goes to:
// $XDG_CACHE_HOME/p2pcam/mediamtx-VERSION, or ~/.cache/... without it.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache directory: %w", err)
	}
	return filepath.Join(base, "p2pcam", "mediamtx-"+Version), nil
}

// Binary returns the path of a mediamtx binary: the one EnvBinary names,
// or the cached build, building it first when it is missing. A build
// takes about a minute and a half cold and runs under a lock, so parallel
// callers (other tests, other test processes, scripts/mediamtx.sh) wait
// for one build. Build progress goes to logw when it is not nil.
func Binary(logw io.Writer) (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBinary, err)
		}
		return p, nil
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "mediamtx")
	if isExecutable(bin) {
		return bin, nil
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock the mediamtx cache: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if isExecutable(bin) {
		return bin, nil // built by another process while we waited
	}
	if logw == nil {
		logw = io.Discard
	}
	if err := build(dir, bin, logw); err != nil {
		return "", fmt.Errorf("build mediamtx %s: %w", Version, err)
	}
	return bin, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// build follows the recipe `go install` cannot: the module's source, plus
// the VERSION file and hls.min.js that its zip lacks, built without cgo.
// The binary is renamed into place last, so a present binary is whole.
func build(dir, bin string, logw io.Writer) error {
	goBin, err := goTool()
	if err != nil {
		return err
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New("npm is not installed (needed for hls.js)")
	}
	work, err := os.MkdirTemp(dir, "build.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	fmt.Fprintf(logw, "mediamtx: downloading github.com/bluenviron/mediamtx@%s\n", Version)
	out, err := run(work, nil, goBin, "mod", "download", "-json", "github.com/bluenviron/mediamtx@"+Version)
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); jerr != nil || mod.Dir == "" {
		if mod.Error != "" {
			return fmt.Errorf("go mod download: %s", mod.Error)
		}
		return fmt.Errorf("go mod download: %v: %s", err, lastLines(out, 5))
	}
	src := filepath.Join(work, "src")
	if err := copyTree(mod.Dir, src); err != nil {
		return fmt.Errorf("copy the module source: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, "internal", "core", "VERSION"), []byte(Version), 0o644); err != nil {
		return err
	}

	fmt.Fprintf(logw, "mediamtx: npm pack hls.js@%s\n", hlsJSVersion)
	if out, err := run(work, nil, npm, "pack", "--silent", "hls.js@"+hlsJSVersion); err != nil {
		return fmt.Errorf("npm pack hls.js@%s: %v: %s", hlsJSVersion, err, lastLines(out, 5))
	}
	hls, err := extractFile(filepath.Join(work, "hls.js-"+hlsJSVersion+".tgz"), "package/dist/hls.min.js")
	if err != nil {
		return fmt.Errorf("unpack hls.js: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, "internal", "servers", "hls", "hls.min.js"), hls, 0o644); err != nil {
		return err
	}

	fmt.Fprintf(logw, "mediamtx: go build (about a minute)\n")
	tmpBin := filepath.Join(work, "mediamtx")
	env := []string{"CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-buildvcs=false -mod=readonly"}
	if out, err := run(src, env, goBin, "build", "-trimpath", "-o", tmpBin, "."); err != nil {
		return fmt.Errorf("go build: %v: %s", err, lastLines(out, 10))
	}
	return os.Rename(tmpBin, bin)
}

// goTool finds the go command on PATH: scripts/mediamtx.sh runs us with
// it, and go test puts its own toolchain's bin first on the PATH of the
// tests it runs.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	return "", errors.New("the go command is not installed")
}

// run runs a command in dir with extra environment and returns its
// combined output.
func run(dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// lastLines returns the last n lines of out, joined on one line.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// copyTree copies the read-only module directory src to dst, writable.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// extractFile returns the content of the file called name in a .tgz.
func extractFile(tgz, name string) ([]byte, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s not in the package", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name {
			return io.ReadAll(io.LimitReader(tr, 16<<20))
		}
	}
}
