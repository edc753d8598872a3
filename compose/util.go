package compose

import (
	"bytes"
	"io"
	"time"
)

func timeDuration(d Duration) time.Duration { return time.Duration(d) }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
