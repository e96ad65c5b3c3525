package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakeInstallPutsP2pcamWhereTheREADMERunsIt checks the way from a clone
// to the README's commands, which run plain `p2pcam`: make build leaves
// ./bin/p2pcam, make install copies it to PREFIX/bin, and the README says
// both before its first command that needs them.
func TestMakeInstallPutsP2pcamWhereTheREADMERunsIt(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds p2pcam with make")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	cmd := exec.Command("make", "install", "PREFIX="+prefix)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, want := range []string{"run it as ./bin/p2pcam, or make install", prefix + "/bin is not on your PATH"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make install says nothing like %q:\n%s", want, out)
		}
	}
	for _, bin := range []string{filepath.Join(root, "bin", "p2pcam"), filepath.Join(prefix, "bin", "p2pcam")} {
		v, err := exec.Command(bin, "version").Output()
		if err != nil || !strings.HasPrefix(string(v), "p2pcam ") {
			t.Errorf("%s version: %v %q", bin, err, v)
		}
	}

	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	install := strings.Index(text, "`make install`")
	first := regexp.MustCompile("(?m)^1\\. .*`p2pcam offer`").FindStringIndex(text)
	if install < 0 || !strings.Contains(text, "`./bin/p2pcam`") {
		t.Fatal("the README does not say where make build leaves p2pcam and how to install it")
	}
	if first == nil || first[0] < install {
		t.Errorf("the README's step-by-step commands come before it says how to install p2pcam")
	}
}
