package verify

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// signedContent is a compiled signed_content template: the parts whose
// concatenation is the signed message.
type signedContent []contentPart

// contentPart is one part of a signedContent: literal text, the raw body,
// or the value of a header.
type contentPart struct {
	literal []byte
	body    bool
	// header is the canonical header name, or empty for other parts.
	header string
}

// parseSignedContent compiles a template such as
// "${header.X-Timestamp}.${body}". The references are ${body}, the body
// byte for byte, and ${header.NAME}, the single value of header NAME.
// Everything else is literal text. The template must contain ${body},
// because a signature that does not cover the body proves nothing about
// it.
func parseSignedContent(text string) (signedContent, error) {
	var content signedContent
	hasBody := false
	rest := text
	for rest != "" {
		start := strings.Index(rest, "${")
		if start < 0 {
			content = append(content, contentPart{literal: []byte(rest)})
			break
		}
		if start > 0 {
			content = append(content, contentPart{literal: []byte(rest[:start])})
		}
		end := strings.IndexByte(rest[start:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unterminated reference at byte %d; close it with \"}\"",
				len(text)-len(rest)+start)
		}
		part, err := parseReference(strings.TrimSpace(rest[start+2 : start+end]))
		if err != nil {
			return nil, err
		}
		hasBody = hasBody || part.body
		content = append(content, part)
		rest = rest[start+end+1:]
	}
	if !hasBody {
		return nil, errors.New("must contain ${body}, or the signature would not cover the body")
	}
	return content, nil
}

func parseReference(ref string) (contentPart, error) {
	if ref == "body" {
		return contentPart{body: true}, nil
	}
	name, ok := strings.CutPrefix(ref, "header.")
	if !ok {
		return contentPart{}, fmt.Errorf("unknown reference ${%s}; use ${body} or ${header.NAME}", ref)
	}
	if !validHeaderName(name) {
		return contentPart{}, fmt.Errorf("invalid header name %q in ${%s}", name, ref)
	}
	return contentPart{header: textproto.CanonicalMIMEHeaderKey(name)}, nil
}

// validHeaderName reports whether name is a non-empty HTTP token
// (RFC 9110, section 5.6.2).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		isAlnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !isAlnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// references reports whether the template contains ${header.NAME} for
// the canonical header name.
func (content signedContent) references(header string) bool {
	for _, part := range content {
		if part.header == header {
			return true
		}
	}
	return false
}

// render returns the parts of the signed message for one request. A
// referenced header that is missing, empty or repeated rejects the
// request.
func (content signedContent) render(t rejecter, h http.Header, body []byte) ([][]byte, error) {
	parts := make([][]byte, 0, len(content))
	for _, part := range content {
		switch {
		case part.body:
			parts = append(parts, body)
		case part.header != "":
			value, err := t.header(h, part.header)
			if err != nil {
				return nil, err
			}
			parts = append(parts, []byte(value))
		default:
			parts = append(parts, part.literal)
		}
	}
	return parts, nil
}
