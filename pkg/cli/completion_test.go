package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestSourceCompletion(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.y4m", "B.Y4M", "c.txt", "sub/d.y4m"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		cameras    []string
		toComplete string
		want       []string
		noSpace    bool
	}{
		{"no camera", nil, "nothing-here", []string{"camera", "test", "none"}, false},
		{"two cameras", []string{"video0", "video2"}, "nothing-here", []string{"camera", "test", "none", "camera:video0", "camera:video2"}, false},
		{"files and directories", nil, dir + "/", []string{"camera", "test", "none", dir + "/B.Y4M", dir + "/a.y4m", dir + "/sub/"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dir := sourceCompletion(func() []string { return tt.cameras })(nil, nil, tt.toComplete)
			if !slices.Equal(got, tt.want) {
				t.Errorf("offers %q, want %q", got, tt.want)
			}
			if dir&cobra.ShellCompDirectiveNoFileComp == 0 || (dir&cobra.ShellCompDirectiveNoSpace != 0) != tt.noSpace {
				t.Errorf("directive %b", dir)
			}
		})
	}
}

// TestCompletionThroughCobra asks the command tree as the shell does
// (p2pcam __complete ...), on a machine without cameras.
func TestCompletionThroughCobra(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "offer", "--source", ""}, []string{"camera", "test", "none"}},
		{[]string{"__complete", "answer", "--source", "t"}, []string{"test"}},
		{[]string{"__complete", "offer", "--blob-format", ""}, []string{"p2pcam", "pion"}},
		{[]string{"__complete", "answer", "--interface", "l"}, []string{"lo"}},
	} {
		code, out, _ := run(t, "", tt.args...)
		if code != 0 {
			t.Fatalf("%q: exit %d", tt.args, code)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(l, ":") {
				name, _, _ := strings.Cut(l, "\t")
				got = append(got, name)
			}
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q offers %q, which lacks %q", tt.args, got, w)
			}
		}
	}
}

func TestWithWordsFallback(t *testing.T) {
	if _, err := withWordsFallback("no such call here", "p2pcam"); err == nil {
		t.Error("a script without the call to replace passed")
	}
	got, err := withWordsFallback("x\n    _get_comp_words_by_ref \"$@\" cur prev words cword\ny\n", "p2pcam")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "    __p2pcam_comp_words \"$@\"\n") || !strings.Contains(got, "__p2pcam_comp_words()\n{") {
		t.Errorf("script:\n%s", got)
	}
}
