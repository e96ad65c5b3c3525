//go:build linux || freebsd || netbsd || openbsd || dragonfly

package view

import (
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"os"

	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func init() {
	// xgb logs to stderr (a missing ~/.Xauthority, say); p2pcam's terminal
	// is not the place, and every error it matters to reaches us anyway.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// canRetitle: an X11 display (XWayland counts) lets another client set a
// window's title.
func canRetitle() bool { return os.Getenv("DISPLAY") != "" }

// titleKeeper holds a player's X11 window to one title: it finds the
// window by the player's process id (_NET_WM_PID, which SDL sets), sets
// its title, and sets it again whenever the player changes it (ffplay
// writes its own title when it shows the first picture).
type titleKeeper struct {
	c                      *xgb.Conn
	pid                    uint32
	title                  []byte
	netName, utf8, pidAtom xproto.Atom
	root                   xproto.Window
}

// keepTitle connects to the display and keeps the title of pid's window
// until stop is closed or the window goes; errors after connecting go to
// logf.
func keepTitle(pid int, title string, stop <-chan struct{}, logf func(msg string, args ...any)) error {
	c, err := xgb.NewConn()
	if err != nil {
		return fmt.Errorf("connect to the X display: %w", err)
	}
	k := &titleKeeper{c: c, pid: uint32(pid), title: []byte(title), root: xproto.Setup(c).DefaultScreen(c).Root}
	for name, a := range map[string]*xproto.Atom{"_NET_WM_NAME": &k.netName, "UTF8_STRING": &k.utf8, "_NET_WM_PID": &k.pidAtom} {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			c.Close()
			return fmt.Errorf("X atom %s: %w", name, err)
		}
		*a = r.Atom
	}
	go func() {
		<-stop
		c.Close() // ends WaitForEvent
	}()
	go func() {
		if err := k.run(stop); err != nil {
			logf("view: keeping the window title", "err", err)
		}
	}()
	return nil
}

// run finds the window, then restores the title at every change.
func (k *titleKeeper) run(stop <-chan struct{}) error {
	var win xproto.Window
	for win == 0 {
		select {
		case <-stop:
			return nil
		default:
		}
		w, err := k.find()
		if err != nil {
			return err
		}
		win = w
		if win == 0 {
			// The player is still starting: its window comes with SDL.
			sleepOrStop(stop)
		}
	}
	if err := xproto.ChangeWindowAttributesChecked(k.c, win, xproto.CwEventMask,
		[]uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		return fmt.Errorf("watch the window: %w", err)
	}
	if err := k.set(win); err != nil {
		return err
	}
	for {
		ev, err := k.c.WaitForEvent()
		if ev == nil && err == nil {
			return nil // the connection was closed: stop
		}
		if err != nil {
			continue // the window went; WaitForEvent ends with the connection
		}
		p, ok := ev.(xproto.PropertyNotifyEvent)
		if !ok || (p.Atom != k.netName && p.Atom != xproto.AtomWmName) {
			continue
		}
		if r, err := xproto.GetProperty(k.c, false, win, p.Atom, xproto.GetPropertyTypeAny, 0, 1024).Reply(); err == nil && string(r.Value) == string(k.title) {
			continue
		}
		if err := k.set(win); err != nil {
			return nil // most likely the window is gone
		}
	}
}

// find returns the top-level window of the player's process, or 0.
func (k *titleKeeper) find() (xproto.Window, error) {
	tree, err := xproto.QueryTree(k.c, k.root).Reply()
	if err != nil {
		return 0, fmt.Errorf("list the windows: %w", err)
	}
	for _, w := range tree.Children {
		r, err := xproto.GetProperty(k.c, false, w, k.pidAtom, xproto.AtomCardinal, 0, 1).Reply()
		if err != nil || r.Format != 32 || len(r.Value) < 4 {
			continue
		}
		if binary.LittleEndian.Uint32(r.Value) == k.pid {
			return w, nil
		}
	}
	return 0, nil
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

// sleepOrStop waits a little, or until stop.
func sleepOrStop(stop <-chan struct{}) {
	t := time.NewTimer(10 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	}
}
