package cli

import (
	"encoding/json"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadBuildInfo(t *testing.T) {
	gitBuild := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}}
	dirtyBuild := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.modified", Value: "true"},
	}}
	goInstall := &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.4.0"}}
	tests := []struct {
		name    string
		stamped stampedInfo
		bi      *debug.BuildInfo
		want    buildInfo
	}{
		{"release build: the stamp wins", stampedInfo{"v1.5.0", "fedcba9876543210", "2026-12-07T12:00:00Z"}, gitBuild,
			buildInfo{Version: "v1.5.0", Commit: "fedcba9876543210", Date: "2026-12-07T12:00:00Z", Go: "go1.26.8"}},
		{"go build in a checkout", stampedInfo{}, gitBuild,
			buildInfo{Version: "devel-0123456789ab", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-12-01T10:00:00Z", Go: "go1.26.8"}},
		{"uncommitted changes", stampedInfo{}, dirtyBuild,
			buildInfo{Version: "devel-0123456789ab-dirty", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "unknown", Modified: true, Go: "go1.26.8"}},
		{"go install @version", stampedInfo{}, goInstall,
			buildInfo{Version: "v1.4.0", Commit: "unknown", Date: "unknown", Go: "go1.26.1"}},
		{"version stamped alone", stampedInfo{version: "v2.0.0"}, goInstall,
			buildInfo{Version: "v2.0.0", Commit: "unknown", Date: "unknown", Go: "go1.26.1"}},
		{"no build information", stampedInfo{}, nil,
			buildInfo{Version: "devel", Commit: "unknown", Date: "unknown", Go: runtime.Version()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.OS, tt.want.Arch = runtime.GOOS, runtime.GOARCH
			if got := readBuildInfo(tt.stamped, tt.bi); got != tt.want {
				t.Errorf("readBuildInfo = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestVersionOutput(t *testing.T) {
	info := buildInfo{Version: "v1.5.0", Commit: "fedcba9876543210aa", Date: "2026-12-07T12:00:00Z", Go: "go1.26.8", OS: "linux", Arch: "arm64"}
	if got, want := info.String(), "p2pcam v1.5.0 (commit fedcba987654, 2026-12-07T12:00:00Z, go1.26.8, linux/arm64)"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	info.Modified = true
	if got := info.String(); !strings.Contains(got, "(commit fedcba987654 (modified), ") {
		t.Errorf("a modified build does not say so: %q", got)
	}

	// The real command, in-process: one line on stdout, nothing on stderr.
	code, out, errs := run(t, "", "version")
	line := regexp.MustCompile(`\Ap2pcam \S+ \(commit \S+( \(modified\))?, \S+, go\S+, ` + runtime.GOOS + "/" + runtime.GOARCH + `\)\n\z`)
	if code != 0 || !line.MatchString(out) || errs != "" {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, errs = run(t, "", "version", "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || errs != "" {
		t.Fatalf("version --json: exit %d, %v, stdout %q, stderr %q", code, err, out, errs)
	}
	for _, k := range []string{"version", "commit", "date", "go", "os", "arch"} {
		if s, _ := got[k].(string); s == "" {
			t.Errorf("version --json: %q is missing or empty in %s", k, out)
		}
	}
	if _, ok := got["modified"].(bool); !ok {
		t.Errorf("version --json: no boolean \"modified\" in %s", out)
	}
	if got["os"] != runtime.GOOS || got["arch"] != runtime.GOARCH {
		t.Errorf("version --json: os/arch %v/%v; want %s/%s", got["os"], got["arch"], runtime.GOOS, runtime.GOARCH)
	}
}
