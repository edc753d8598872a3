package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/gateway"
)

func TestParsePort(t *testing.T) {
	cases := []struct {
		in   any
		want gateway.PortMapping
	}{
		{8090, gateway.PortMapping{LocalPort: 8090}},
		{int64(1), gateway.PortMapping{LocalPort: 1}},
		{uint64(65535), gateway.PortMapping{LocalPort: 65535}},
		{float64(8090), gateway.PortMapping{LocalPort: 8090}},
		{"8090", gateway.PortMapping{LocalPort: 8090}},
		{" 8090 ", gateway.PortMapping{LocalPort: 8090}},
		{"9834:8090", gateway.PortMapping{RemotePort: 9834, LocalPort: 8090}},
		{"remote-server.com:9834:8090", gateway.PortMapping{RemoteHost: "remote-server.com", RemotePort: 9834, LocalPort: 8090}},
		{"0.0.0.0:9834:8090", gateway.PortMapping{RemoteHost: "0.0.0.0", RemotePort: 9834, LocalPort: 8090}},
		{"[::1]:9834:8090", gateway.PortMapping{RemoteHost: "::1", RemotePort: 9834, LocalPort: 8090}},
	}
	for _, tc := range cases {
		got, err := gateway.ParsePort(tc.in)
		require.NoError(t, err, "%#v", tc.in)
		assert.Equal(t, tc.want, got, "%#v", tc.in)
	}
}

func TestParsePortInvalid(t *testing.T) {
	for _, in := range []any{
		0, -1, 65536, 1.5, float64(70000), uint64(1 << 40), nil, true, []byte("80"),
		"", " ", "http", "80a", "+80", "-80", "0", "65536", ":8090", "9834:", "a:8090",
		"9834:0", "99999:8090", "::8090", ":9834:8090", "host:x:8090", "::1:9834:8090",
		"[::1]9834:8090", "a b:9834:8090", "h:9834:8090:1",
	} {
		_, err := gateway.ParsePort(in)
		assert.ErrorIs(t, err, gateway.ErrInvalidPort, "%#v", in)
	}
}

func TestParsePorts(t *testing.T) {
	got, err := gateway.ParsePorts([]any{8090, "9835:8091", "h:9836:8092"})
	require.NoError(t, err)
	assert.Equal(t, []gateway.PortMapping{
		{LocalPort: 8090},
		{RemotePort: 9835, LocalPort: 8091},
		{RemoteHost: "h", RemotePort: 9836, LocalPort: 8092},
	}, got)

	got, err = gateway.ParsePorts(8090)
	require.NoError(t, err)
	assert.Equal(t, []gateway.PortMapping{{LocalPort: 8090}}, got)

	_, err = gateway.ParsePorts([]any{})
	assert.ErrorIs(t, err, gateway.ErrInvalidPort)

	_, err = gateway.ParsePorts([]any{8090, "9834:8090"})
	assert.ErrorIs(t, err, gateway.ErrInvalidPort)
	assert.Contains(t, err.Error(), "port[0] and port[1]")

	_, err = gateway.ParsePorts([]any{8090, "x"})
	assert.ErrorContains(t, err, "port[1]")
}

func TestPortMappingStringRoundTrip(t *testing.T) {
	for _, in := range []string{"8090", "9834:8090", "h:9834:8090", "[::1]:9834:8090"} {
		m, err := gateway.ParsePort(in)
		require.NoError(t, err)
		assert.Equal(t, in, m.String())
	}
}

func FuzzParsePort(f *testing.F) {
	for _, seed := range []string{"8090", "9834:8090", "h:9834:8090", "[::1]:9834:8090", "", ":", "::", "[", "0:0:0", "a:b:c:d"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := gateway.ParsePort(in)
		if err != nil {
			assert.ErrorIs(t, err, gateway.ErrInvalidPort)
			return
		}
		assert.True(t, m.LocalPort >= 1 && m.LocalPort <= 65535, "local port %d", m.LocalPort)
		assert.True(t, m.RemotePort >= 0 && m.RemotePort <= 65535, "remote port %d", m.RemotePort)
		again, err := gateway.ParsePort(m.String())
		require.NoError(t, err, "String() %q of %q", m.String(), in)
		assert.Equal(t, m, again)
	})
}
