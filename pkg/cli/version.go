package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version, Commit and Date describe the build. Release builds
// (scripts/release.sh) set them with -ldflags
// "-X github.com/p2pcam/p2pcam/pkg/cli.Version=v1.2.3 -X ...cli.Commit=SHA
// -X ...cli.Date=2026-12-07T12:00:00Z"; Date is the commit's time, so that
// building the same commit again gives the same bytes. Left empty (go
// install, go build, make build), they come from the build information the
// Go toolchain records: the module version, and vcs.revision and vcs.time
// when built inside a git checkout.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// buildInfo is what version prints; with --json, as these fields.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

// stampedInfo is what the linker stamped in (any of it may be empty).
type stampedInfo struct {
	version, commit, date string
}

// readBuildInfo combines the stamped values with bi (nil when the binary
// carries no build information): a stamped value wins, the toolchain's
// record fills the rest, and "unknown" what neither knows.
func readBuildInfo(s stampedInfo, bi *debug.BuildInfo) buildInfo {
	info := buildInfo{Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	var modVersion, rev, vcsTime string
	if bi != nil {
		modVersion = bi.Main.Version
		if bi.GoVersion != "" {
			info.Go = bi.GoVersion
		}
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.time":
				vcsTime = kv.Value
			case "vcs.modified":
				info.Modified = kv.Value == "true"
			}
		}
	}
	info.Commit = firstOf(s.commit, rev, "unknown")
	info.Date = firstOf(s.date, vcsTime, "unknown")
	switch {
	case s.version != "":
		info.Version = s.version
	case modVersion != "" && modVersion != "(devel)":
		// go install ...@v1.2.3: the module proxy's version.
		info.Version = modVersion
	case rev != "":
		short := rev
		if len(short) > 12 {
			short = short[:12]
		}
		info.Version = "devel-" + short
		if info.Modified {
			info.Version += "-dirty"
		}
	default:
		info.Version = "devel"
	}
	return info
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// String is version's one line.
func (b buildInfo) String() string {
	commit := b.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if b.Modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("p2pcam %s (commit %s, %s, %s, %s/%s)", b.Version, commit, b.Date, b.Go, b.OS, b.Arch)
}

type versionOptions struct {
	json bool
}

func newVersionCmd(e *env) *cobra.Command {
	o := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print p2pcam's version",
		Long: `version prints p2pcam's version, the commit it was built from and that
commit's date, the Go version that built it, and the OS/architecture.
With --json it prints {"version", "commit", "date", "modified", "go", "os", "arch"}.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				bi = nil
			}
			return runVersion(e, o, readBuildInfo(stampedInfo{Version, Commit, Date}, bi))
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the version as JSON for scripts")
	return cmd
}

func runVersion(e *env, o *versionOptions, info buildInfo) error {
	if o.json {
		enc := json.NewEncoder(e.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := fmt.Fprintln(e.Out, info)
	return err
}
