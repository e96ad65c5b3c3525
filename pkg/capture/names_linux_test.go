package capture

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCameraNamesIn: the capture node of each camera (sysfs index 0, or
// no word from sysfs) is named, in numeric order; metadata nodes are not.
func TestCameraNamesIn(t *testing.T) {
	root := t.TempDir()
	dev, sys := filepath.Join(root, "dev"), filepath.Join(root, "sys")
	nodes := map[string]string{"video0": "0", "video1": "1", "video2": "0", "video10": ""}
	for name, index := range nodes {
		if err := os.MkdirAll(dev, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dev, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if index == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Join(sys, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, name, "index"), []byte(index+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := cameraNamesIn(dev, sys)
	if want := []string{"video0", "video2", "video10"}; !slices.Equal(got, want) {
		t.Errorf("names %q; want %q", got, want)
	}
	if got := cameraNamesIn(filepath.Join(root, "none"), sys); got != nil {
		t.Errorf("no nodes: %q; want nil", got)
	}
}
