//go:build linux || freebsd || netbsd || openbsd || dragonfly

package view

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// canRetitle: an X11 display (XWayland counts) lets another client set a
// window's title.
func canRetitle() bool { return os.Getenv("DISPLAY") != "" }

// titleKeeper holds a player's X11 windows to one title: it finds them
// by the player's process id (_NET_WM_PID, which SDL sets), sets their
// title, and sets it again whenever the player changes it (ffplay writes
// its own title when it shows the first picture).
type titleKeeper struct {
	c                      *xgb.Conn
	pid                    uint32
	title                  []byte
	netName, utf8, pidAtom xproto.Atom
	root                   xproto.Window
}

// keepTitle connects to the display and keeps the title of pid's window
// until stop is closed or the window goes; errors after connecting go to
// logf. Its goroutines are counted in wg, which the caller holds above
// zero until keepTitle returns.
func keepTitle(pid int, title string, stop <-chan struct{}, wg *sync.WaitGroup, logf func(msg string, args ...any)) error {
	// xgb logs to stderr, through a logger of its own package (a missing
	// ~/.Xauthority, say); p2pcam's terminal is not the place, and every
	// error it matters to reaches us anyway. SetOutput, not a new
	// xgb.Logger: it is safe beside xgb's goroutines reading the logger.
	xgb.Logger.SetOutput(io.Discard)
	c, err := xgb.NewConn()
	if err != nil {
		return fmt.Errorf("connect to the X display: %w", err)
	}
	k := &titleKeeper{c: c, pid: uint32(pid), title: []byte(title), root: xproto.Setup(c).DefaultScreen(c).Root}
	for name, a := range map[string]*xproto.Atom{"_NET_WM_NAME": &k.netName, "UTF8_STRING": &k.utf8, "_NET_WM_PID": &k.pidAtom} {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			c.Close()
			return fmt.Errorf("look up the X atom %s: %w", name, err)
		}
		*a = r.Atom
	}
	wg.Go(func() {
		<-stop
		c.Close()
	})
	wg.Go(func() {
		if err := k.run(stop); err != nil {
			logf("view: keeping the window title", "err", err)
		}
	})
	return nil
}

// run looks at the player's windows every 50 ms and puts the title back
// on any that lacks it. Looking, not waiting for property events: SDL
// can replace its window (a new one for a GL visual) after it was found.
func (k *titleKeeper) run(stop <-chan struct{}) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		wins, err := k.find()
		if err != nil {
			select {
			case <-stop:
				return nil // the connection was closed under us
			default:
				return err
			}
		}
		for _, w := range wins {
			r, err := xproto.GetProperty(k.c, false, w, k.netName, xproto.GetPropertyTypeAny, 0, 1024).Reply()
			if err == nil && string(r.Value) == string(k.title) {
				continue
			}
			_ = k.set(w) // fails only when the window just went
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}

// find returns the top-level windows of the player's process.
func (k *titleKeeper) find() ([]xproto.Window, error) {
	tree, err := xproto.QueryTree(k.c, k.root).Reply()
	if err != nil {
		return nil, fmt.Errorf("list the windows: %w", err)
	}
	var out []xproto.Window
	for _, w := range tree.Children {
		r, err := xproto.GetProperty(k.c, false, w, k.pidAtom, xproto.AtomCardinal, 0, 1).Reply()
		if err != nil || r.Format != 32 || len(r.Value) < 4 {
			continue
		}
		if binary.LittleEndian.Uint32(r.Value) == k.pid {
			out = append(out, w)
		}
	}
	return out, nil
}

// set writes the title as both the EWMH name and the ICCCM one, as SDL
// does, in UTF-8.
func (k *titleKeeper) set(win xproto.Window) error {
	for _, a := range []xproto.Atom{k.netName, xproto.AtomWmName} {
		if err := xproto.ChangePropertyChecked(k.c, xproto.PropModeReplace, win, a, k.utf8, 8,
			uint32(len(k.title)), k.title).Check(); err != nil {
			return fmt.Errorf("set the window title: %w", err)
		}
	}
	return nil
}
