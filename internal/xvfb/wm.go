package xvfb

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"
)

// WindowManagers are the window managers StartWindowManager can run,
// with the Debian packages that carry them: twm (no EWMH, as old as X11
// desktops get) and openbox (EWMH: full screen, _NET_WM_STATE).
var WindowManagers = map[string]string{"twm": "twm", "openbox": "openbox"}

// StartWindowManager runs the window manager name (see WindowManagers)
// on d, as on a desktop: windows are reparented into its frames, placed
// by it, and their titles drawn. It stops when the test ends, and skips
// the test when the window manager is not installed.
func (d *Display) StartWindowManager(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed (apt-get install %s): no window manager to test under", name, WindowManagers[name])
	}
	var cmd *exec.Cmd
	switch name {
	case "twm":
		rc := filepath.Join(t.TempDir(), "twmrc")
		if err := os.WriteFile(rc, []byte("RandomPlacement\nNoGrabServer\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("twm", "-f", rc)
	default:
		cmd = exec.Command(name)
	}
	// twm finds no fonts for a UTF-8 locale's fontset on a bare Xvfb.
	cmd.Env = append(d.Env(os.Environ()), "LANG=C", "LC_ALL=C", "HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// It is up once its own windows are (twm's size and info boxes,
	// openbox's EWMH check window).
	c, root, err := d.conn()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited at start", name)
		default:
		}
		tree, err := xproto.QueryTree(c, root).Reply()
		if err != nil {
			t.Fatal(err)
		}
		if len(tree.Children) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not start in 10 s", name)
}

// UTF8Title returns a window's _NET_WM_NAME, the UTF-8 title window
// managers show.
func (d *Display) UTF8Title(ctx context.Context, id string) (string, error) {
	cmd := exec.CommandContext(ctx, "xprop", "-id", id, "_NET_WM_NAME")
	cmd.Env = d.Env(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	// _NET_WM_NAME(UTF8_STRING) = "p2pcam answer · 778 062"
	m := regexp.MustCompile(`= (".*")`).FindSubmatch(out)
	if m == nil {
		return "", nil
	}
	return strconv.Unquote(string(m[1]))
}

// deleteWindow sends the window with xdotool's id a WM_DELETE_WINDOW
// message.
func (d *Display) deleteWindow(id string) error {
	c, _, err := d.conn()
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(id, 0, 32)
	if err != nil {
		return fmt.Errorf("window id %q: %w", id, err)
	}
	atom := func(name string) (xproto.Atom, error) {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			return 0, fmt.Errorf("intern %s: %w", name, err)
		}
		return r.Atom, nil
	}
	protocols, err := atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	w := xproto.Window(n)
	ev := xproto.ClientMessageEvent{
		Format: 32, Window: w, Type: protocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(del), xproto.TimeCurrentTime, 0, 0, 0}),
	}
	if err := xproto.SendEventChecked(c, false, w, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		return fmt.Errorf("close window %s: %w", id, err)
	}
	return nil
}

// DoubleClick double-clicks the left button in the middle of a window, as
// a person would.
func (d *Display) DoubleClick(ctx context.Context, id string) error {
	r, err := d.Geometry(ctx, id)
	if err != nil {
		return err
	}
	_, err = d.xdotool(ctx, "mousemove", "--window", id, strconv.Itoa(r.Dx()/2), strconv.Itoa(r.Dy()/2),
		"click", "--repeat", "2", "--delay", "80", "1")
	return err
}

// FindWindow looks for a viewable window whose title (_NET_WM_NAME, else
// WM_NAME) matches name, over the Display's own X connection: about a
// millisecond, where xdotool search and getwindowgeometry take tens (two
// processes), which would count in a first picture's time. It returns
// the window's id as xdotool writes it and where the window is on the
// screen; ok is false when there is none.
func (d *Display) FindWindow(name *regexp.Regexp) (id string, r image.Rectangle, ok bool, err error) {
	c, root, err := d.conn()
	if err != nil {
		return "", image.Rectangle{}, false, err
	}
	atom := func(s string) (xproto.Atom, error) {
		a, err := xproto.InternAtom(c, false, uint16(len(s)), s).Reply()
		if err != nil {
			return 0, err
		}
		return a.Atom, nil
	}
	netName, err := atom("_NET_WM_NAME")
	if err != nil {
		return "", image.Rectangle{}, false, err
	}
	title := func(w xproto.Window) string {
		for _, prop := range []xproto.Atom{netName, xproto.AtomWmName} {
			p, err := xproto.GetProperty(c, false, w, prop, xproto.GetPropertyTypeAny, 0, 1024).Reply()
			if err == nil && len(p.Value) > 0 {
				return string(p.Value)
			}
		}
		return ""
	}
	var walk func(w xproto.Window) (xproto.Window, bool, error)
	walk = func(w xproto.Window) (xproto.Window, bool, error) {
		tree, err := xproto.QueryTree(c, w).Reply()
		if err != nil {
			return 0, false, nil // gone meanwhile
		}
		for _, ch := range tree.Children {
			a, err := xproto.GetWindowAttributes(c, ch).Reply()
			if err != nil || a.MapState != xproto.MapStateViewable {
				continue
			}
			if name.MatchString(title(ch)) {
				return ch, true, nil
			}
			if found, ok, err := walk(ch); ok || err != nil {
				return found, ok, err
			}
		}
		return 0, false, nil
	}
	w, ok, err := walk(root)
	if !ok || err != nil {
		return "", image.Rectangle{}, false, err
	}
	g, err := xproto.GetGeometry(c, xproto.Drawable(w)).Reply()
	if err != nil {
		return "", image.Rectangle{}, false, nil
	}
	at, err := xproto.TranslateCoordinates(c, w, root, 0, 0).Reply()
	if err != nil {
		return "", image.Rectangle{}, false, nil
	}
	x, y := int(at.DstX), int(at.DstY)
	return strconv.Itoa(int(w)), image.Rect(x, y, x+int(g.Width), y+int(g.Height)), true, nil
}
