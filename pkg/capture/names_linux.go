package capture

import (
	"os"
	"path/filepath"
	"strings"
)

// CameraNames returns the names of the V4L2 cameras, as --source
// camera:NAME takes them, without opening them (Devices opens each one to
// read its formats): quick enough for shell completion, and harmless to
// a camera in use. No camera gives nil.
func CameraNames() []string { return cameraNamesIn("/dev", "/sys/class/video4linux") }

// cameraNamesIn lists the videoN nodes under dev that sysfs (under sys)
// gives index 0: a UVC camera's first node, the one that captures; its
// other nodes carry metadata. A node sysfs says nothing of is kept.
func cameraNamesIn(dev, sys string) []string {
	var out []string
	for _, n := range videoNodesIn(dev) {
		name := filepath.Base(n)
		if b, err := os.ReadFile(filepath.Join(sys, name, "index")); err == nil && strings.TrimSpace(string(b)) != "0" {
			continue
		}
		out = append(out, name)
	}
	return out
}
