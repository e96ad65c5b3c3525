package peer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// slogFactory routes pion's leveled loggers into one slog.Logger, tagging
// each record with pion's scope ("ice", "dtls", ...). pion's info level is
// chatty and maps to debug; its errors are internal and mostly harmless
// (a closed socket at hang-up) and map to warnings, which show with -v:
// what matters to a person reaches them as p2pcam's own messages.
type slogFactory struct{ l *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{l: f.l.With("pion", scope)}
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) log(level slog.Level, msg string) {
	s.l.Log(context.Background(), level, msg)
}

func (s slogLogger) Trace(msg string) { s.log(slog.LevelDebug-4, msg) }
func (s slogLogger) Tracef(format string, args ...any) {
	s.log(slog.LevelDebug-4, fmt.Sprintf(format, args...))
}
func (s slogLogger) Debug(msg string) { s.log(slog.LevelDebug, msg) }
func (s slogLogger) Debugf(format string, args ...any) {
	s.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (s slogLogger) Info(msg string) { s.log(slog.LevelDebug, msg) }
func (s slogLogger) Infof(format string, args ...any) {
	s.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (s slogLogger) Warn(msg string) { s.log(slog.LevelWarn, msg) }
func (s slogLogger) Warnf(format string, args ...any) {
	s.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (s slogLogger) Error(msg string) { s.log(slog.LevelWarn, msg) }
func (s slogLogger) Errorf(format string, args ...any) {
	s.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
