package cloudflare

import (
	"bufio"
	"io"
	"regexp"
	"strings"
	"sync"
)

// quickURL matches a quick tunnel URL. cloudflared prints it inside a
// box of "|" and "+" characters, for example (2024 console format):
//
//	2024-05-01T10:00:00Z INF |  https://word-word-word-word.trycloudflare.com  |
//
// and before 2021 (logfmt and logrus text formats):
//
//	time="2020-11-02T10:00:00Z" level=info msg="|  https://word-word.trycloudflare.com  |"
//	INFO[0003] |  https://word-word.trycloudflare.com  |
var quickURL = regexp.MustCompile(`https://[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.trycloudflare\.com\b`)

// quickServiceHost is the address of the service that hands out quick
// tunnels. It appears in error lines and is never a tunnel's URL.
const quickServiceHost = "api.trycloudflare.com"

// errorMarkers are the level markers of cloudflared's log formats that
// are not informational, and words that mark a line as a failure.
var errorMarkers = []string{
	" err ", " wrn ", " ftl ", " dbg ", // console format, lower-cased
	"error[", "warn[", "warning[", "fatal[", "panic[", // logrus text format
	"level=error", "level=warn", "level=fatal", "level=panic", // logfmt
	`"level":"error"`, `"level":"warn"`, `"level":"fatal"`, // JSON output
	"error", "failed", "unable",
}

// urlFromLine returns the quick tunnel URL in a log line, or "" when the
// line has none or reports a problem.
func urlFromLine(line string) string {
	lower := " " + strings.ToLower(line) + " "
	for _, marker := range errorMarkers {
		if strings.Contains(lower, marker) {
			return ""
		}
	}
	for _, u := range quickURL.FindAllString(lower, -1) {
		if u != "https://"+quickServiceHost {
			return u
		}
	}
	return ""
}

// validQuickHost reports whether host, as the metrics endpoint returns
// it, is a quick tunnel hostname.
func validQuickHost(host string) bool {
	host = strings.ToLower(strings.TrimSpace(host))
	return host != quickServiceHost && quickURL.FindString("https://"+host) == "https://"+host
}

// registeredLine reports whether a line reports that a named tunnel has a
// connection to Cloudflare's edge: "Registered tunnel connection" since
// 2021, "Connection ... registered" before.
func registeredLine(line string) bool {
	lower := strings.ToLower(line)
	if strings.Contains(lower, "unregistered") {
		return false
	}
	return strings.Contains(lower, "registered tunnel connection") ||
		strings.Contains(lower, "connection") && strings.Contains(lower, " registered")
}

// maxLine bounds one stored or scanned log line; longer lines are cut.
const maxLine = 4096

// tailLines keeps the last lines of output for error messages. It is
// safe for concurrent use.
type tailLines struct {
	mu    sync.Mutex
	lines []string // guarded by mu; at most size
	size  int
}

func (t *tailLines) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.size {
		copy(t.lines, t.lines[1:])
		t.lines = t.lines[:t.size-1]
	}
	t.lines = append(t.lines, line)
}

func (t *tailLines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "(no output)"
	}
	return strings.Join(t.lines, "\n")
}

// readLines calls handle for each line of r until r ends. Lines longer
// than maxLine are cut, so that no output can stall the reader or grow
// its memory.
func readLines(r io.Reader, handle func(string)) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			handle(string(line))
			// Skip the rest of the long line.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return
			}
			continue
		}
		if len(line) > 0 {
			handle(strings.TrimRight(string(line), "\r\n"))
		}
		if err != nil {
			return
		}
	}
}
