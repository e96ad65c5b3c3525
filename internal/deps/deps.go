// Package deps pins modules that packages under construction will import.
// It goes away once every module here is imported by real code.
package deps

import (
	_ "github.com/at-wat/ebml-go/webm"
	_ "github.com/creack/pty"
	_ "github.com/pion/interceptor"
	_ "github.com/pion/interceptor/pkg/cc"
	_ "github.com/pion/interceptor/pkg/gcc"
	_ "github.com/pion/interceptor/pkg/jitterbuffer"
	_ "github.com/pion/interceptor/pkg/stats"
	_ "github.com/pion/mediadevices"
	_ "github.com/pion/mediadevices/pkg/driver/camera"
	_ "github.com/pion/rtcp"
	_ "github.com/pion/rtp"
	_ "github.com/pion/sdp/v3"
	_ "github.com/pion/turn/v5"
	_ "github.com/pion/webrtc/v4"
	_ "github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	_ "github.com/pion/webrtc/v4/pkg/media/samplebuilder"
	_ "github.com/skip2/go-qrcode"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
)
