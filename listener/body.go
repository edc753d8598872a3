package listener

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// requestError is a client mistake. The reply carries status and a
// message that never contains request data.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// maxInitialBodyBuffer is the largest buffer that readBody allocates
// before any byte of the body has arrived.
const maxInitialBodyBuffer = 64 << 10

// readBody reads the body as it arrived, up to max bytes.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *requestError) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > max {
		return nil, tooLarge(max)
	}
	// The declared length is not trusted for the first allocation, since
	// a client can declare 10 MiB and send nothing. Larger bodies grow
	// the buffer as their bytes arrive.
	size := bytes.MinRead
	if r.ContentLength > 0 {
		size = int(min(r.ContentLength+bytes.MinRead, maxInitialBodyBuffer))
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	if err == nil {
		return buf.Bytes(), nil
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, tooLarge(max)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return nil, &requestError{status: http.StatusRequestTimeout, msg: "timed out reading the request body"}
	}
	return nil, badRequest("read request body: incomplete or malformed transfer")
}

func tooLarge(max int64) *requestError {
	return &requestError{
		status: http.StatusRequestEntityTooLarge,
		msg:    fmt.Sprintf("request body is larger than the limit of %d bytes", max),
	}
}

// body is a decoded request body.
type body struct {
	// raw is the JSON document when the body is JSON (also a form's
	// payload field), with any BOM removed; nil otherwise.
	raw []byte
	// value is the body as a Go value when raw is nil: nil for an empty
	// body, a string for text, a map for forms.
	value any
}

// decodeBody removes Content-Encoding and parses data by its
// Content-Type.
func decodeBody(h http.Header, data []byte, max int64) (body, *requestError) {
	data, rerr := decodeContent(h.Values("Content-Encoding"), data, max)
	if rerr != nil {
		return body{}, rerr
	}
	mediaType, params := parseContentType(h.Get("Content-Type"))
	switch {
	case mediaType == "":
		return decodeUntyped(data)
	case mediaType == "application/json" || mediaType == "text/json" || strings.HasSuffix(mediaType, "+json"):
		return decodeJSON(data, "application/json")
	case mediaType == "application/x-www-form-urlencoded":
		return decodeForm(data)
	case mediaType == "multipart/form-data":
		return decodeMultipart(data, params["boundary"])
	case strings.HasPrefix(mediaType, "text/"):
		return decodeText(data)
	}
	return body{}, &requestError{
		status: http.StatusUnsupportedMediaType,
		msg:    "unsupported Content-Type; send JSON, a form, multipart/form-data or text",
	}
}

// parseContentType returns the lower-case media type and its parameters.
// A malformed parameter list, such as "application/json; utf-8", keeps
// the media type and drops the parameters.
func parseContentType(v string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	mediaType, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mediaType, params
	}
	mediaType, _, _ = strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(mediaType)), nil
}

// decodeContent undoes the Content-Encoding codings, last applied first.
// Each decoded layer is limited to max bytes.
func decodeContent(values []string, data []byte, max int64) ([]byte, *requestError) {
	var codings []string
	for _, v := range values {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	if len(codings) > 2 {
		return nil, &requestError{status: http.StatusUnsupportedMediaType, msg: "too many Content-Encoding layers; send at most 2"}
	}
	for i := len(codings) - 1; i >= 0; i-- {
		if codings[i] != "gzip" && codings[i] != "x-gzip" {
			return nil, &requestError{status: http.StatusUnsupportedMediaType, msg: "unsupported Content-Encoding; send gzip or identity"}
		}
		var rerr *requestError
		if data, rerr = gunzip(data, max); rerr != nil {
			return nil, rerr
		}
	}
	return data, nil
}

func gunzip(data []byte, max int64) ([]byte, *requestError) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, badRequest("request body is not valid gzip")
	}
	defer zr.Close()
	var out bytes.Buffer
	n, err := out.ReadFrom(io.LimitReader(zr, max+1))
	if err != nil {
		return nil, badRequest("request body is not valid gzip")
	}
	if n > max {
		return nil, &requestError{
			status: http.StatusRequestEntityTooLarge,
			msg:    fmt.Sprintf("decompressed request body is larger than the limit of %d bytes", max),
		}
	}
	return out.Bytes(), nil
}

// decodeUntyped handles a body without Content-Type: JSON when it parses
// as JSON, text otherwise.
func decodeUntyped(data []byte) (body, *requestError) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return body{}, nil
	}
	if json.Valid(data) {
		return decodeJSON(data, "")
	}
	return decodeText(data)
}

func decodeJSON(data []byte, declared string) (body, *requestError) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return body{}, nil
	}
	if !utf8.Valid(data) {
		return body{}, badRequest("request body is not valid UTF-8")
	}
	if !json.Valid(data) {
		return body{}, badRequest("request body is not valid JSON (declared as %s): syntax error at byte %d", declared, jsonErrorOffset(data))
	}
	return body{raw: data}, nil
}

// jsonErrorOffset returns the byte offset of the first syntax error.
func jsonErrorOffset(data []byte) int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	err := dec.Decode(&v)
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return syntaxErr.Offset
	}
	if err != nil {
		return int64(len(data))
	}
	// The first value parsed, so the error is trailing data.
	return dec.InputOffset()
}

// decodeText keeps a text body as a string, or as JSON when the text is
// a JSON object or array, as some providers send JSON as text/plain.
func decodeText(data []byte) (body, *requestError) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		return body{}, badRequest("request body is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return body{}, nil
	}
	if (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid(trimmed) {
		return body{raw: trimmed}, nil
	}
	return body{value: string(data)}, nil
}

func decodeForm(data []byte) (body, *requestError) {
	data = bytes.TrimPrefix(data, utf8BOM)
	values, err := url.ParseQuery(string(data))
	if err != nil {
		return body{}, badRequest("request body is not valid application/x-www-form-urlencoded")
	}
	return formBody(values, "application/x-www-form-urlencoded")
}

func decodeMultipart(data []byte, boundary string) (body, *requestError) {
	if boundary == "" {
		return body{}, badRequest("multipart/form-data without a boundary parameter")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return body{}, nil
	}
	reader := multipart.NewReader(bytes.NewReader(data), boundary)
	values := url.Values{}
	fileFields := map[string]any{}
	for parts := 0; ; parts++ {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) && parts == 0 {
			// A multipart body has at least one part (RFC 2046, section
			// 5.1.1). The reader also ends with io.EOF when the boundary
			// never occurs, as in a body that is not multipart at all.
			return body{}, badRequest("request body is not valid multipart/form-data")
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return body{}, badRequest("request body is not valid multipart/form-data")
		}
		content, err := io.ReadAll(part)
		if err != nil {
			return body{}, badRequest("request body is not valid multipart/form-data")
		}
		name := part.FormName()
		if !utf8.ValidString(part.FileName()) || !utf8.ValidString(part.Header.Get("Content-Type")) {
			return body{}, badRequest("multipart/form-data file name or type is not valid UTF-8")
		}
		if part.FileName() != "" {
			// NOTE: file contents are not exposed; only their metadata.
			fileFields[name] = map[string]any{
				"filename":     part.FileName(),
				"content_type": part.Header.Get("Content-Type"),
				"size":         len(content),
			}
			continue
		}
		values.Add(name, string(content))
	}
	b, rerr := formBody(values, "multipart/form-data")
	if rerr != nil || b.raw != nil {
		return b, rerr
	}
	fields := b.value.(map[string]any)
	for name, meta := range fileFields {
		if _, exists := fields[name]; !exists {
			fields[name] = meta
		}
	}
	return b, nil
}

// formBody turns form fields into a map: one value becomes a string,
// several become a list. A form whose "payload" field holds a JSON
// object or array, as GitHub and Slack send, is that JSON instead.
func formBody(values url.Values, declared string) (body, *requestError) {
	fields := make(map[string]any, len(values))
	for name, vs := range values {
		if !utf8.ValidString(name) {
			return body{}, badRequest("%s field name is not valid UTF-8", declared)
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			if !utf8.ValidString(v) {
				return body{}, badRequest("%s field value is not valid UTF-8", declared)
			}
			list[i] = v
		}
		if len(list) == 1 {
			fields[name] = list[0]
		} else {
			fields[name] = list
		}
	}
	if payload, ok := fields["payload"].(string); ok {
		trimmed := bytes.TrimSpace([]byte(payload))
		if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
			if !json.Valid(trimmed) {
				return body{}, badRequest("form field payload is not valid JSON")
			}
			return body{raw: trimmed}, nil
		}
	}
	return body{value: fields}, nil
}
