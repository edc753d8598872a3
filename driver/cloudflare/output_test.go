package cloudflare

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURLFromLine(t *testing.T) {
	cases := map[string]string{
		"2024-05-01T10:00:00Z INF |  https://word-word-word.trycloudflare.com                       |": "https://word-word-word.trycloudflare.com",
		`time="2020-11-02T10:00:00Z" level=info msg="|  https://a-b.trycloudflare.com  |"`:             "https://a-b.trycloudflare.com",
		"INFO[0003] |  https://a-b.trycloudflare.com  |":                                               "https://a-b.trycloudflare.com",
		`{"level":"info","message":"|  https://q.trycloudflare.com  |"}`:                               "https://q.trycloudflare.com",
		"2024-05-01T10:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...":                 "",
		"2024-05-01T10:00:00Z INF |  https://api.trycloudflare.com  |":                                 "",
		"2024-05-01T10:00:00Z ERR failed to request quick Tunnel: Post https://x.trycloudflare.com":    "",
		`time="x" level=error msg="https://x.trycloudflare.com"`:                                       "",
		"ERROR[0001] https://x.trycloudflare.com":                                                      "",
		"2024-05-01T10:00:00Z WRN https://x.trycloudflare.com is slow":                                 "",
		"2024-05-01T10:00:00Z INF https://evil.example.com/?https://x.trycloudflare.comx":              "",
		"2024-05-01T10:00:00Z INF |  HTTPS://UP.TRYCLOUDFLARE.COM  |":                                  "https://up.trycloudflare.com",
		"":                                   "",
		"https://":                           "",
		"| https://-bad.trycloudflare.com |": "",
	}
	for line, want := range cases {
		assert.Equal(t, want, urlFromLine(line), line)
	}
}

func TestValidQuickHost(t *testing.T) {
	assert.True(t, validQuickHost("a-b.trycloudflare.com"))
	assert.False(t, validQuickHost("api.trycloudflare.com"))
	assert.False(t, validQuickHost(""))
	assert.False(t, validQuickHost("a.trycloudflare.com.evil.com"))
	assert.False(t, validQuickHost("a b.trycloudflare.com"))
}

func TestRegisteredLine(t *testing.T) {
	assert.True(t, registeredLine("2024-01-01T00:00:00Z INF Registered tunnel connection connIndex=0"))
	assert.True(t, registeredLine(`time="x" level=info msg="Connection 6ff4 registered" connIndex=0`))
	assert.False(t, registeredLine("2024 INF Unregistered tunnel connection connIndex=0"))
	assert.False(t, registeredLine("2024 INF Starting tunnel"))
}

func TestTailLinesKeepsLast(t *testing.T) {
	tail := &tailLines{size: 3}
	assert.Equal(t, "(no output)", tail.String())
	for _, l := range []string{"a", "b", "c", "d"} {
		tail.add(l)
	}
	assert.Equal(t, "b\nc\nd", tail.String())
}

func TestReadLinesCutsLongLines(t *testing.T) {
	input := "short\n" + strings.Repeat("x", 3*maxLine) + "\nafter\nlast"
	var got []string
	readLines(strings.NewReader(input), func(l string) { got = append(got, l) })
	assert.Equal(t, 4, len(got))
	assert.Equal(t, "short", got[0])
	assert.Len(t, got[1], maxLine)
	assert.Equal(t, "after", got[2])
	assert.Equal(t, "last", got[3])
}

func FuzzURLFromLine(f *testing.F) {
	for _, seed := range []string{
		"2024-05-01T10:00:00Z INF |  https://word-word.trycloudflare.com  |",
		"INFO[0003] |  https://api.trycloudflare.com  |",
		"ERR https://x.trycloudflare.com",
		"https://a.b.trycloudflare.com.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		u := urlFromLine(line)
		if u == "" {
			return
		}
		assert.NotEqual(t, "https://api.trycloudflare.com", u)
		assert.True(t, strings.HasPrefix(u, "https://"))
		assert.True(t, strings.HasSuffix(u, ".trycloudflare.com"))
		assert.True(t, validQuickHost(strings.TrimPrefix(u, "https://")), u)
	})
}
