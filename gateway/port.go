package gateway

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
)

// ErrInvalidPort is wrapped by every error of [ParsePort] and
// [ParsePorts].
var ErrInvalidPort = errors.New("gateway: invalid port")

// PortMapping is one entry of a gateway's port setting: which public
// port leads to which local port.
type PortMapping struct {
	// RemoteHost is the address to bind on the public side, from the
	// "remote_host:9834:8090" form. Empty means the driver's default.
	RemoteHost string
	// RemotePort is the port to bind on the public side, from the
	// "9834:8090" form. Zero means the driver's default, which for the
	// ssh driver is LocalPort.
	RemotePort int
	// LocalPort is the local port that the tunnel leads to. It is the
	// port that ${gateway:PORT...} names.
	LocalPort int
}

// String returns the mapping in the form that [ParsePort] reads.
func (m PortMapping) String() string {
	local := strconv.Itoa(m.LocalPort)
	if m.RemotePort == 0 && m.RemoteHost == "" {
		return local
	}
	remote := strconv.Itoa(m.RemotePort)
	if m.RemotePort == 0 {
		remote = local
	}
	if m.RemoteHost == "" {
		return remote + ":" + local
	}
	return net.JoinHostPort(m.RemoteHost, remote) + ":" + local
}

// ParsePort parses one port entry. It accepts
//
//	8090                    local port 8090 (the remote port is the driver's default)
//	"8090"                  the same, as text
//	"9834:8090"             remote port 9834 to local port 8090
//	"remote_host:9834:8090" the same, bound to remote_host on the public side
//	"[::1]:9834:8090"       an IPv6 remote host in brackets
//
// v may be any integer type, a float64 holding an integer (as JSON
// decoders produce) or a string. Ports range from 1 to 65535.
func ParsePort(v any) (PortMapping, error) {
	switch v := v.(type) {
	case string:
		return parsePortString(v)
	case int:
		return portNumber(int64(v), v)
	case int32:
		return portNumber(int64(v), v)
	case int64:
		return portNumber(v, v)
	case uint:
		return portNumber(int64(min(uint64(v), math.MaxInt32)), v)
	case uint32:
		return portNumber(int64(v), v)
	case uint64:
		return portNumber(int64(min(v, math.MaxInt32)), v)
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			return PortMapping{}, fmt.Errorf("%w %v: expected a whole number from 1 to 65535", ErrInvalidPort, v)
		}
		return portNumber(int64(v), v)
	case nil:
		return PortMapping{}, fmt.Errorf("%w: missing; set port to a number such as 8090 or to \"9834:8090\"", ErrInvalidPort)
	}
	return PortMapping{}, fmt.Errorf("%w: expected a number or text such as \"9834:8090\", found %T", ErrInvalidPort, v)
}

// ParsePorts parses a port setting that is one entry or a list of
// entries ([]any, []int or []string), in the forms that [ParsePort]
// reads. It rejects an empty list and two entries for one local port.
func ParsePorts(v any) ([]PortMapping, error) {
	var items []any
	switch v := v.(type) {
	case []any:
		items = v
	case []int:
		for _, p := range v {
			items = append(items, p)
		}
	case []string:
		for _, p := range v {
			items = append(items, p)
		}
	default:
		items = []any{v}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: the list is empty; give at least one port", ErrInvalidPort)
	}

	mappings := make([]PortMapping, 0, len(items))
	seen := make(map[int]int, len(items))
	for i, item := range items {
		m, err := ParsePort(item)
		if err != nil {
			if len(items) > 1 {
				return nil, fmt.Errorf("port[%d]: %w", i, err)
			}
			return nil, err
		}
		if j, dup := seen[m.LocalPort]; dup {
			return nil, fmt.Errorf("%w: port[%d] and port[%d] both lead to local port %d; each local port may appear once",
				ErrInvalidPort, j, i, m.LocalPort)
		}
		seen[m.LocalPort] = i
		mappings = append(mappings, m)
	}
	return mappings, nil
}

func portNumber(n int64, original any) (PortMapping, error) {
	if n < 1 || n > 65535 {
		return PortMapping{}, fmt.Errorf("%w %v: expected a number from 1 to 65535", ErrInvalidPort, original)
	}
	return PortMapping{LocalPort: int(n)}, nil
}

func parsePortString(text string) (PortMapping, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return PortMapping{}, fmt.Errorf("%w: empty text; set port to a number such as 8090 or to \"9834:8090\"", ErrInvalidPort)
	}

	// The local port is always the part after the last colon.
	cut := strings.LastIndexByte(s, ':')
	local, err := parsePortPart(s[cut+1:], "local port", text)
	if err != nil {
		return PortMapping{}, err
	}
	if cut < 0 {
		return PortMapping{LocalPort: local}, nil
	}

	rest := s[:cut]
	if !strings.Contains(rest, ":") {
		remote, err := parsePortPart(rest, "remote port", text)
		if err != nil {
			return PortMapping{}, err
		}
		return PortMapping{RemotePort: remote, LocalPort: local}, nil
	}

	host, remoteText, err := net.SplitHostPort(rest)
	if err != nil {
		return PortMapping{}, fmt.Errorf("%w %q: expected remote_host:remote_port:local_port, with an IPv6 host in brackets",
			ErrInvalidPort, text)
	}
	if host == "" || strings.ContainsAny(host, " \t/[]") {
		return PortMapping{}, fmt.Errorf("%w %q: the remote host is empty or not a host name or address", ErrInvalidPort, text)
	}
	remote, err := parsePortPart(remoteText, "remote port", text)
	if err != nil {
		return PortMapping{}, err
	}
	return PortMapping{RemoteHost: host, RemotePort: remote, LocalPort: local}, nil
}

func parsePortPart(part, name, text string) (int, error) {
	part = strings.TrimSpace(part)
	n, err := strconv.Atoi(part)
	if err != nil || part[0] == '+' || part[0] == '-' {
		return 0, fmt.Errorf("%w %q: the %s %q is not a number", ErrInvalidPort, text, name, part)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%w %q: the %s %d is outside 1 to 65535", ErrInvalidPort, text, name, n)
	}
	return n, nil
}
