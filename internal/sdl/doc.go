// Package sdl is the part of SDL2 that package view's window and speaker
// use, reached without linking SDL2: the binary does not name libSDL2
// among the libraries it needs, so it starts, and every command but
// --view runs, on a machine without SDL2 (a headless Raspberry Pi, a
// server). Load opens the library with dlopen when a window is first
// asked for (libSDL2-2.0.so.0; on macOS Homebrew's libSDL2-2.0.0.dylib,
// also under /opt/homebrew/lib and /usr/local/lib) and resolves only the
// functions this package calls; a LoadError says when it is not there.
//
// SDL's structures and constants are declared in shim.h, so that building
// needs no SDL header either; testdata/abi.c checks them against SDL's
// headers where those are installed (TestABI).
//
// The package needs cgo; without it only this comment is built.
package sdl
