package expr

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// maxDepth bounds the nesting of expressions, defaults, parentheses and
// unary signs, so that hostile text cannot exhaust the stack.
const maxDepth = 64

// knownSources lists the source names other than "gateway:PORT".
var knownSources = map[string]bool{
	"body": true, "query": true, "header": true, "item": true,
	"input": true, "response": true, "result": true, "output": true,
	"jobs": true, "env": true, "context": true,
}

const sourceList = "body, query, header, item, input, response, result, output, jobs, env, context or gateway:PORT"

// parser turns template text into a node tree. One parser compiles one
// string and collects the sources it finds for Template.Sources.
type parser struct {
	src   string
	pos   int
	depth int
	// exprStart is the offset of the "${" being parsed, or -1.
	exprStart int
	// sources and seen collect the distinct source names in order.
	sources []string
	seen    map[string]bool
	// hasExpr records whether any "${...}" was found.
	hasExpr bool
}

func newParser(src string) *parser {
	return &parser{src: src, exprStart: -1, seen: map[string]bool{}}
}

func (p *parser) fail(pos int, kind error, format string, args ...any) error {
	return &CompileError{Template: p.src, Pos: pos, Problem: fmt.Sprintf(format, args...), Kind: kind}
}

func (p *parser) syntaxError(pos int, format string, args ...any) error {
	return p.fail(pos, ErrSyntax, format, args...)
}

// unterminated reports the "${" being parsed as never closed.
func (p *parser) unterminated() error {
	return p.syntaxError(p.exprStart, `unterminated "${": add the closing "}", or write "$${" for a literal "${"`)
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) peekAt(offset int) byte {
	if p.pos+offset < len(p.src) {
		return p.src[p.pos+offset]
	}
	return 0
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.syntaxError(p.pos, "expression nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) addSource(name string) {
	if !p.seen[name] {
		p.seen[name] = true
		p.sources = append(p.sources, name)
	}
}

// textPart is a piece of template text: a literal, or an expression
// when expr is set.
type textPart struct {
	literal string
	expr    *expression
}

// parseTemplate parses a whole template string.
func (p *parser) parseTemplate() (node, error) {
	parts, err := p.parseText(false)
	if err != nil {
		return nil, err
	}
	return buildText(parts), nil
}

// parseText parses text with embedded expressions from p.pos. At the top
// level it runs to the end of the input. Inside a default (inDefault) it
// stops before the "}" that closes the enclosing expression or before an
// annotation "@(", braces nest, and a backslash makes the next $, @, {,
// } or \ literal.
func (p *parser) parseText(inDefault bool) ([]textPart, error) {
	var parts []textPart
	var literal strings.Builder
	flush := func() {
		if literal.Len() > 0 {
			parts = append(parts, textPart{literal: literal.String()})
			literal.Reset()
		}
	}
	braces := 0
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case strings.HasPrefix(p.src[p.pos:], "$${"):
			literal.WriteString("${")
			p.pos += 3
		case strings.HasPrefix(p.src[p.pos:], "${"):
			flush()
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			parts = append(parts, textPart{expr: e})
		case !inDefault:
			literal.WriteByte(c)
			p.pos++
		case c == '\\' && strings.IndexByte(`$@{}\`, p.peekAt(1)) >= 0:
			literal.WriteByte(p.src[p.pos+1])
			p.pos += 2
		case c == '{':
			braces++
			literal.WriteByte(c)
			p.pos++
		case c == '}' && braces == 0:
			flush()
			return parts, nil
		case c == '}':
			braces--
			literal.WriteByte(c)
			p.pos++
		case c == '@' && p.peekAt(1) == '(' && braces == 0:
			flush()
			return parts, nil
		default:
			literal.WriteByte(c)
			p.pos++
		}
	}
	if inDefault {
		return nil, p.unterminated()
	}
	flush()
	return parts, nil
}

// buildText turns text parts into the smallest node: a constant, a lone
// expression that keeps its value's type, or text to interpolate.
func buildText(parts []textPart) node {
	switch {
	case len(parts) == 0:
		return newConst("")
	case len(parts) == 1 && parts[0].expr == nil:
		return newConst(parts[0].literal)
	case len(parts) == 1:
		return parts[0].expr
	}
	size := 0
	for _, part := range parts {
		size += len(part.literal)
		if part.expr != nil {
			size += 32
		}
	}
	return &textNode{parts: parts, size: size}
}

// parseExpr parses one "${...}" starting at p.pos.
func (p *parser) parseExpr() (*expression, error) {
	start := p.pos
	outer := p.exprStart
	p.exprStart = start
	defer func() { p.exprStart = outer }()
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()

	p.hasExpr = true
	p.pos += 2
	p.skipSpace()
	if p.eof() {
		return nil, p.unterminated()
	}
	if p.peek() == '}' {
		return nil, p.syntaxError(start, "empty expression: write a source and a path, such as ${body.id}")
	}
	e := &expression{}
	value, err := p.parseSum()
	if err != nil {
		return nil, err
	}
	e.value = value

	p.skipSpace()
	if p.keyword("as") {
		if e.conv, err = p.parseType(); err != nil {
			return nil, err
		}
		p.skipSpace()
	}
	if p.peek() == '|' {
		p.pos++
		if e.def, err = p.parseDefault(); err != nil {
			return nil, err
		}
		p.skipSpace()
	}
	for p.peek() == '@' && p.peekAt(1) == '(' {
		if err := p.skipAnnotation(); err != nil {
			return nil, err
		}
		p.skipSpace()
	}
	if p.eof() {
		return nil, p.unterminated()
	}
	if c := p.peek(); c != '}' {
		return nil, p.syntaxError(p.pos, `unexpected %q: expected an operator (+ - * / %%), "as", "|", "@(" or the closing "}"`, c)
	}
	p.pos++
	e.text = p.src[start:p.pos]
	return e, nil
}

// keyword consumes word if it appears at p.pos as a whole word followed
// by white space.
func (p *parser) keyword(word string) bool {
	if !strings.HasPrefix(p.src[p.pos:], word) {
		return false
	}
	if next := p.peekAt(len(word)); !isSpace(next) {
		return false
	}
	p.pos += len(word)
	return true
}

// parseSum parses terms joined by + and -.
func (p *parser) parseSum() (operand, error) {
	start := p.pos
	left, err := p.parseProduct()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		op := p.peek()
		if op != '+' && op != '-' {
			p.pos = save
			return left, nil
		}
		p.pos++
		right, err := p.parseProduct()
		if err != nil {
			return nil, err
		}
		left = &binaryOp{op: op, left: left, right: right, text: strings.TrimSpace(p.src[start:p.pos])}
	}
}

// parseProduct parses factors joined by *, / and %.
func (p *parser) parseProduct() (operand, error) {
	start := p.pos
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		op := p.peek()
		if op != '*' && op != '/' && op != '%' {
			p.pos = save
			return left, nil
		}
		p.pos++
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &binaryOp{op: op, left: left, right: right, text: strings.TrimSpace(p.src[start:p.pos])}
	}
}

// parseUnary parses a signed operand, a parenthesized sum, a number or
// a path.
func (p *parser) parseUnary() (operand, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()

	p.skipSpace()
	if p.eof() {
		return nil, p.unterminated()
	}
	start := p.pos
	c := p.peek()
	switch {
	case c == '-' || c == '+':
		p.pos++
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if c == '+' {
			return x, nil
		}
		return &negOp{x: x, text: p.src[start:p.pos]}, nil
	case c == '(':
		p.pos++
		x, err := p.parseSum()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() {
			return nil, p.unterminated()
		}
		if p.peek() != ')' {
			return nil, p.syntaxError(p.pos, `unexpected %q: expected ")" to close the "(" at position %d`, p.peek(), start)
		}
		p.pos++
		return x, nil
	case isDigit(c):
		return p.parseNumber()
	case isIdentStart(c):
		return p.parsePath()
	case c == '}':
		return nil, p.syntaxError(p.pos, `missing operand before "}"`)
	}
	return nil, p.syntaxError(p.pos, "unexpected %q: expected a source such as body, a number or \"(\"", c)
}

func (p *parser) parseNumber() (operand, error) {
	start := p.pos
	for isDigit(p.peek()) {
		p.pos++
	}
	if p.peek() == '.' && isDigit(p.peekAt(1)) {
		p.pos++
		for isDigit(p.peek()) {
			p.pos++
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		save := p.pos
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if !isDigit(p.peek()) {
			p.pos = save
		}
		for isDigit(p.peek()) {
			p.pos++
		}
	}
	text := p.src[start:p.pos]
	if isIdentChar(p.peek()) || p.peek() == '.' || !isNumberText(text) {
		return nil, p.syntaxError(start, "invalid number %q: a path must start with a source name, such as body", p.src[start:p.scanWordEnd()])
	}
	n, ok := numberOfText(text)
	if !ok {
		return nil, p.syntaxError(start, "number %q is out of range: write a number within float64 range", text)
	}
	return &numberLit{n: n, text: text}, nil
}

// scanWordEnd returns the end of the run of identifier characters and
// dots at p.pos, for error messages.
func (p *parser) scanWordEnd() int {
	end := p.pos
	for end < len(p.src) && (isIdentChar(p.src[end]) || p.src[end] == '.') {
		end++
	}
	return end
}

// scanIdent consumes identifier characters. A "-" between two
// identifier characters is part of the identifier, so "process-message"
// is one name while "a - b" and "a -b" are a subtraction.
func (p *parser) scanIdent() string {
	start := p.pos
	for !p.eof() {
		c := p.src[p.pos]
		if isIdentChar(c) || (c == '-' && p.pos > start && isIdentChar(p.src[p.pos-1]) && isIdentChar(p.peekAt(1))) {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

// parsePath parses a source name followed by path segments.
func (p *parser) parsePath() (operand, error) {
	start := p.pos
	name := p.scanIdent()
	source := name
	switch {
	case name == "gateway":
		if p.peek() != ':' {
			return nil, p.syntaxError(start, "gateway needs a port, as in ${gateway:8090.public_url}")
		}
		p.pos++
		digitsStart := p.pos
		for isDigit(p.peek()) {
			p.pos++
		}
		port, err := strconv.Atoi(p.src[digitsStart:p.pos])
		if err != nil || port < 1 || port > 65535 {
			end := p.pos
			for end < len(p.src) && isIdentChar(p.src[end]) {
				end++
			}
			return nil, p.syntaxError(digitsStart, "invalid gateway port %q: use a number from 1 to 65535", p.src[digitsStart:end])
		}
		source = "gateway:" + strconv.Itoa(port)
	case !knownSources[name]:
		return nil, p.fail(start, ErrUnknownSource, "unknown source %q: use %s", name, sourceList)
	}
	segs, err := p.parseSegments()
	if err != nil {
		return nil, err
	}
	p.addSource(source)
	return &pathRef{source: source, segs: segs, text: p.src[start:p.pos], foldFirst: source == "header"}, nil
}

// parseSegments parses ".key", "[n]", "[-n]", "[*]", "[]" and
// "[\"key\"]" segments until another character comes.
func (p *parser) parseSegments() ([]segment, error) {
	var segs []segment
	for {
		switch p.peek() {
		case '.':
			p.pos++
			keyStart := p.pos
			key := p.scanIdent()
			if key == "" {
				return nil, p.syntaxError(keyStart, `expected a key after ".": write keys with other characters as ["key"]`)
			}
			segs = append(segs, segment{kind: segKey, key: key})
		case '[':
			seg, err := p.parseBracket()
			if err != nil {
				return nil, err
			}
			segs = append(segs, seg)
		default:
			finishSegments(segs)
			return segs, nil
		}
	}
}

// parseBracket parses one bracketed segment at p.pos.
func (p *parser) parseBracket() (segment, error) {
	start := p.pos
	p.pos++
	var seg segment
	switch c := p.peek(); {
	case c == '*' && p.peekAt(1) == ']':
		p.pos++
		seg = segment{kind: segAll}
	case c == ']':
		seg = segment{kind: segAll}
	case c == '"' || c == '\'':
		key, err := p.parseQuoted()
		if err != nil {
			return seg, err
		}
		if key == "" {
			return seg, p.syntaxError(start, "empty key in brackets")
		}
		seg = segment{kind: segKey, key: key}
	case c == '-' || isDigit(c):
		numStart := p.pos
		p.pos++
		for isDigit(p.peek()) {
			p.pos++
		}
		n, err := strconv.Atoi(p.src[numStart:p.pos])
		if err != nil {
			return seg, p.syntaxError(numStart, "invalid index %q: use an integer such as [0] or [-1]", p.src[numStart:p.pos])
		}
		seg = segment{kind: segIndex, index: n}
	case p.eof():
		return seg, p.unterminated()
	default:
		return seg, p.syntaxError(p.pos, `unexpected %q in brackets: use [0], [-1], [*] or ["key"]`, c)
	}
	if p.eof() {
		return seg, p.unterminated()
	}
	if p.peek() != ']' {
		return seg, p.syntaxError(p.pos, `unexpected %q: expected "]" to close the "[" at position %d`, p.peek(), start)
	}
	p.pos++
	return seg, nil
}

// parseQuoted parses a string in double quotes, with JSON escapes, or in
// single quotes, taken literally.
func (p *parser) parseQuoted() (string, error) {
	start := p.pos
	quote := p.src[p.pos]
	p.pos++
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case c == '\\' && quote == '"':
			p.pos += 2
			continue
		case c == quote:
			p.pos++
			if quote == '\'' {
				return p.src[start+1 : p.pos-1], nil
			}
			var s string
			if err := json.Unmarshal([]byte(p.src[start:p.pos]), &s); err != nil {
				return "", p.syntaxError(start, "invalid quoted string %s: use JSON escapes such as \\\" and \\n", p.src[start:p.pos])
			}
			return s, nil
		}
		p.pos++
	}
	if p.exprStart >= 0 {
		return "", p.unterminated()
	}
	return "", p.syntaxError(start, "unterminated quoted string")
}

// parseDefault parses the default after "|": a quoted string, or text
// up to the closing "}" or an annotation.
func (p *parser) parseDefault() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()

	p.skipSpace()
	if c := p.peek(); c == '"' || c == '\'' {
		quoteStart := p.pos
		s, err := p.parseQuoted()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if c := p.peek(); c != '}' && c != 0 && !(c == '@' && p.peekAt(1) == '(') {
			return nil, p.syntaxError(p.pos, "unexpected %q after the quoted default at position %d: quote the whole default", c, quoteStart)
		}
		return newConst(s), nil
	}
	parts, err := p.parseText(true)
	if err != nil {
		return nil, err
	}
	trimParts(parts)
	for _, part := range parts {
		if part.expr != nil {
			return buildText(parts), nil
		}
	}
	return newConst(literalValue(joinLiterals(parts))), nil
}

// trimParts removes white space from the start of the first part and
// the end of the last, when they are literals.
func trimParts(parts []textPart) {
	if len(parts) == 0 {
		return
	}
	if first := &parts[0]; first.expr == nil {
		first.literal = strings.TrimLeftFunc(first.literal, isSpaceRune)
	}
	if last := &parts[len(parts)-1]; last.expr == nil {
		last.literal = strings.TrimRightFunc(last.literal, isSpaceRune)
	}
}

func joinLiterals(parts []textPart) string {
	var b strings.Builder
	for _, part := range parts {
		b.WriteString(part.literal)
	}
	return b.String()
}

// literalValue returns the value of an unquoted default: a number,
// true, false, null, or a JSON object or array when s is one, and the
// text itself otherwise.
func literalValue(s string) any {
	if s == "" {
		return ""
	}
	switch c := s[0]; {
	case c == '-' || isDigit(c):
		if isNumberText(s) {
			return numberFromText(s)
		}
	case s == "true":
		return true
	case s == "false":
		return false
	case s == "null":
		return nil
	case (c == '{' || c == '[') && gjson.Valid(s):
		return jsonToGo(gjson.Parse(s))
	}
	return s
}

// skipAnnotation skips "@( ... )", whose content may hold nested
// parentheses and quoted strings.
func (p *parser) skipAnnotation() error {
	start := p.pos
	p.pos += 2
	depth := 1
	for !p.eof() {
		switch c := p.src[p.pos]; c {
		case '"':
			if _, err := p.parseQuoted(); err != nil {
				return err
			}
			continue
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				p.pos++
				return nil
			}
		}
		p.pos++
	}
	return p.syntaxError(start, `unterminated annotation "@(": add the closing ")"`)
}

// parseType parses the conversion after "as": type[/subtype][;format].
func (p *parser) parseType() (*conversion, error) {
	p.skipSpace()
	start := p.pos
	name := p.scanUntil(" \t\r\n/;|}@")
	if name == "" {
		return nil, p.syntaxError(start, `expected a type after "as", such as text, number or json`)
	}
	kind, ok := typeKinds[name]
	if !ok {
		return nil, p.syntaxError(start, "unknown type %q: use %s", name, typeList)
	}
	c := &conversion{kind: kind, name: name}
	if p.peek() == '/' {
		p.pos++
		subStart := p.pos
		c.subtype = p.scanUntil(" \t\r\n;|}")
		if kind == convObjects && c.subtype != "" {
			fields, err := p.parseProjection(subStart, p.pos)
			if err != nil {
				return nil, err
			}
			c.fields = fields
		}
	}
	if p.peek() == ';' {
		p.pos++
		c.format = p.scanUntil(" \t\r\n|}")
	}
	return c, nil
}

// scanUntil consumes bytes up to one of stop or the end of the input.
func (p *parser) scanUntil(stop string) string {
	start := p.pos
	for !p.eof() && strings.IndexByte(stop, p.src[p.pos]) < 0 {
		p.pos++
	}
	return p.src[start:p.pos]
}

// parseProjection parses the comma-separated paths of "object[]/a,b.c"
// in p.src[start:end].
func (p *parser) parseProjection(start, end int) ([]projection, error) {
	sub := &parser{src: p.src[:end], pos: start, exprStart: p.exprStart}
	var fields []projection
	for {
		pathStart := sub.pos
		var segs []segment
		if sub.peek() == '[' {
			seg, err := sub.parseBracket()
			if err != nil {
				return nil, p.relocate(err)
			}
			segs = append(segs, seg)
		} else {
			key := sub.scanIdent()
			if key == "" {
				return nil, p.syntaxError(sub.pos, `expected a field path in "object[]/...", such as object[]/id,user.name`)
			}
			segs = append(segs, segment{kind: segKey, key: key})
		}
		rest, err := sub.parseSegments()
		if err != nil {
			return nil, p.relocate(err)
		}
		segs = append(segs, rest...)
		finishSegments(segs)
		text := p.src[pathStart:sub.pos]
		name := text[strings.LastIndexByte(text, '.')+1:]
		fields = append(fields, projection{name: name, segs: segs})
		if sub.eof() {
			return fields, nil
		}
		if sub.peek() != ',' {
			return nil, p.syntaxError(sub.pos, `unexpected %q in "object[]/...": separate field paths with ","`, sub.peek())
		}
		sub.pos++
	}
}

// relocate rewrites an error from a sub-parser over a prefix of p.src
// so that it names the whole template.
func (p *parser) relocate(err error) error {
	if ce, ok := err.(*CompileError); ok {
		ce.Template = p.src
	}
	return err
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// isIdentChar reports whether c may appear in a key: ASCII letters and
// digits, "_", and every byte of a multi-byte UTF-8 character.
func isIdentChar(c byte) bool {
	return isIdentStart(c) || isDigit(c) || c >= 0x80
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isSpaceRune(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }
