package compose

import (
	"bytes"
	"io"
	"time"
)

// dur returns d's value, expanding its ${env.*} template; a mistake is
// recorded under path and gives zero.
func (p *Project) dur(path string, d Duration) time.Duration {
	if d.Template == "" {
		return d.Value
	}
	text, err := p.expandString(path, d.Template)
	if err != nil {
		addProblem(p.ps, path, err)
		return 0
	}
	v, err := parseDuration(text)
	if err != nil {
		p.ps.add(path, "%v (from %s)", err, d.Template)
		return 0
	}
	return v
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
