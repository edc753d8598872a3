// Package expr implements the ${...} template language of tether's YAML:
// every listener, gateway and workflow field that reads data from a
// request, a response, the environment or a gateway is such a template.
//
// A template is compiled once, when the configuration loads, and then
// evaluated many times against a [Resolver] that supplies the sources:
//
//	tmpl, err := expr.Compile("${body.task_id}")
//	...
//	id, err := tmpl.Eval(expr.Sources{
//		"body":   expr.JSON(raw),
//		"header": expr.Of(r.Header),
//	})
//
// Evaluation never parses the template again, and looks paths up in a raw
// JSON body with gjson instead of decoding the whole document.
//
// # Syntax
//
// A template is text in which each ${...} is replaced by a value. Inside
// the braces come, in this order, a value, an optional type, an optional
// default and optional annotations:
//
//	${source.path}
//	${source.path as type/subtype;format}
//	${source.path | default}
//	${source.path as type | default @(description "shown in a UI")}
//
// The value is a path or an arithmetic expression of paths and numbers.
// White space is allowed around each part, but not inside a path.
//
// A template that is exactly one ${...}, with nothing around it, keeps the
// value's type: ${body.count} gives a number and ${body.output} an
// object. Any other template is text: each value is written into it as
// described under "Text and values", and the result is a string.
//
// [CompileValue] compiles a whole value decoded from YAML or JSON: every
// string leaf of a map or list is a template, and the result of
// evaluation has the same shape with each leaf evaluated:
//
//	result:
//	  url: ${body.output.url}      # a string
//	  width: ${body.output.width}  # a number
//	  quality: 85                  # stays 85
//
// # Sources
//
// A path starts with the name of a source. The [Resolver] supplies the
// value of each source. Names outside this list are a compile error
// wrapping [ErrUnknownSource].
//
//	body       the body of the incoming request
//	query      its query parameters (url.Values: first value, a string)
//	header     its header (http.Header: names in any case, first value)
//	item       one element of a bulk request
//	input      the input of a workflow or job
//	response   the response of an HTTP call
//	result     the result delivered by a callback
//	output     the output of a component or workflow
//	jobs       finished jobs, as ${jobs.JOB-ID.output.field}
//	env        environment variables, as ${env.API_KEY}
//	context    run data such as ${context.run_id} and ${context.timestamp}
//	gateway:PORT  a gateway's tunnel for a local port:
//	           ${gateway:8090.public_url}, ${gateway:8090.public_address},
//	           ${gateway:8090.port}
//
// A source name alone, such as ${input} or ${body}, is the whole source.
// When the resolver does not know a source, every path in it is missing.
//
// A source's [Value] is either a raw JSON document ([JSON]) or a Go value
// ([Of]). Go values may be maps, slices, scalars, an http.Header or
// url.Values (each key gives its first value, as a string), or a
// [Fields], whose Field method receives the first key of the path.
//
// # Paths
//
// After the source come segments:
//
//	.name          the key "name" of an object
//	["any key"]    a key with any characters, in JSON string syntax
//	['any key']    the same, taken literally (no escapes)
//	[0]            the first element of an array
//	[-1]           the last element; [-2] the one before it
//	[*]            every element: the rest of the path is applied to
//	               each, giving a list (elements where it is missing are
//	               left out); [] means the same
//
// For example ${body.results[0].id}, ${body.items[*].tags[-1]} and
// ${header["X-Signature"]}.
//
// A key written after a dot consists of ASCII letters, digits, "_", and
// any non-ASCII characters. A "-" between two such characters is part of
// the key, so ${jobs.process-message.output} names the job
// "process-message" and ${header.X-Signature} the header X-Signature.
// Other keys, such as those with ".", "*", "?", "|", "#", "@" or spaces,
// are written in brackets: ${body["first.name"]}. They are escaped
// before they reach gjson, so they never act as gjson path syntax.
//
// As in gjson, a key of digits also indexes an array (${body.items.0} is
// ${body.items[0]}), and an index on an object looks up the key with
// those digits.
//
// A path that leads nowhere (a missing key, an index out of range, a key
// on a string) is missing, which is not an error: the expression
// evaluates to nil unless it has a default.
//
// # Defaults
//
// A default after "|" replaces a value that is missing or null. Other
// values, including 0, false and "", are kept.
//
//	${env.PORT | 8080}                  the number 8080
//	${input.size | "1024x1024"}         a quoted string, with JSON escapes
//	${input.sep | "a|b"}                "|" inside quotes is plain text
//	${input.name | John Doe}            unquoted text: "John Doe"
//	${env.API_URL | http://h:8080/v1}   unquoted text, "|" and ":" allowed
//	${input.key | ${env.KEY | "dev"}}   nested: a template as the default
//	${input.tags | []}                  JSON: an empty list
//
// The default is everything from "|" to the closing "}" (or to an
// annotation), with surrounding white space removed. A quoted default is
// a string, in double quotes with JSON escapes or in single quotes taken
// literally, and it is never scanned for ${. An unquoted default that
// reads as a JSON number, true, false, null, object or array is that
// value, and other unquoted text is a string. An unquoted default can
// contain ${...}: when it is exactly one expression, that expression's
// value is the default with its type, and otherwise the default is the
// text with the values written in. In unquoted defaults, braces must
// balance, so write a lone "}" as \}. A backslash also makes $, @, {
// and \ literal. An empty default, ${x |}, is the empty string.
//
// # Types
//
// "as" converts the value, after any default is applied. A missing or
// null value stays nil and is not converted.
//
//	text, string  the value as text (see "Text and values")
//	number        a number; strings in JSON number syntax are parsed,
//	              and true and false give 1 and 0
//	integer       a number truncated towards zero to an int64, or an
//	              integer beyond int64 as json.Number
//	boolean       true for true, a non-zero number, or the strings true,
//	              1, yes and on; false for false, 0, and the strings
//	              false, 0, no, off and "" (case and surrounding space
//	              are ignored); other values are an error
//	json          a string parsed as JSON; other values pass through
//	base64        a string or []byte encoded as standard base64 text
//	object[]      the objects of a list, with other elements left out;
//	              object[]/id,user.name builds each object from those
//	              paths, under the last part of each path
//	              ({"id": ..., "name": ...}); a missing path gives nil; a
//	              value that is not a list gives an empty list
//
// For example ${result as json}, ${input.count as integer | 10} and
// ${response.users as object[]/id,profile.email}.
//
// The types image, audio, video, file, select, slider, list and markdown,
// with any /subtype and ;format (as in ${input.photo as image/png;base64}
// or ${input.voice as select/alloy,echo}), are accepted for
// compatibility with model-compose files but pass the value through
// unchanged. The ;format of the converting types is ignored too.
// Annotations, @(description "Email address") after everything else,
// are parsed and ignored. Any other type name is a compile error.
//
// # Arithmetic
//
// The value may combine paths and numbers with +, -, *, / and %, with the
// usual precedence (* / % before + -, left to right), unary minus and
// parentheses:
//
//	${output.original_size - output.compressed_size}
//	${body.processing_time_ms + body.queue_time_ms}
//	${(input.width + 1) * 2}
//
// Subtraction is written with white space around the "-" because a "-"
// between two key characters is part of the key: ${body.a-b} is the key
// "a-b" of body, while ${body.a - b} subtracts the source b (an unknown
// source, so a compile error) and ${body.a - body.b} subtracts two
// paths. ${a-b} is the source named "a-b", which is unknown. A "-" after
// "]", ")" or white space is always an operator: ${body.list[0]-1} and
// ${body.n -1} subtract 1, but ${body.n-1} is the key "n-1".
//
// Operands are numbers, or strings in JSON number syntax (query
// parameters arrive as strings). Integers are computed exactly in int64;
// a result that overflows, a division with a remainder, and any float
// operand give a float64. A result that is integral and fits in int64 is
// an int64, so ${body.a / 2} is 5 for 10 and 5.5 for 11. Integers beyond
// int64 take part as float64 approximations.
//
// Evaluation errors: division or % by zero, an operand that is not a
// number, and an operand that is missing or null. A default turns the
// last case into the default: ${body.a - body.b | 0}.
//
// # Text and values
//
// In a template with text around or between expressions, each value is
// written as [Stringify] writes it: strings as they are, numbers in
// decimal (integers with every digit), true and false, nothing for nil,
// and objects and arrays as compact JSON, never in Go's map[...] form:
//
//	id=${body.obj}   gives   id={"a":1}
//
// Objects and arrays read from a raw JSON body are written as the body
// has them, with white space removed, so key order and number digits are
// kept. Go maps are written with sorted keys.
//
// Values are written once and never scanned for ${ again. A callback
// body {"title": "${env.API_KEY}"} rendered by "Title: ${body.title}"
// gives the text Title: ${env.API_KEY}, not the key.
//
// Numbers produced by evaluation are int64 when integral and within
// range, float64 otherwise, and json.Number for integers beyond int64,
// so an id such as 1318183058574413864 keeps every digit, as a number
// and as text.
//
// # Escaping
//
// $${ is a literal ${, in template text and in unquoted defaults:
// "cost: $${price}" gives the text cost: ${price}. Any other "$" is
// literal: "$5", "$$" and "a$b" stay as they are. Backslashes have no
// meaning outside defaults, so Windows paths need no escaping.
//
// # Errors
//
// [Compile] and [CompileValue] return a [*CompileError] wrapping
// [ErrSyntax] (malformed text: an unterminated ${, a stray character,
// a bad number, type or index) or [ErrUnknownSource]. It reads
//
//	expr: "${bdy.id}": position 2: unknown source "bdy": use body, ...
//
// where the position is the 0-based byte offset in the template of the
// problem (for an unterminated ${, of the "${" itself). An unterminated
// ${ is always a compile error, never a hang or a literal.
//
// [Template.Eval] and [Template.EvalString] return an [*EvalError]
// wrapping [ErrEval] that names the failing expression:
//
//	expr: evaluate "${body.a / body.b}": division by zero: body.b is 0
//
// Errors in a leaf of a compiled map or list also name the leaf, as in
// field "result.savings". Messages state the kind of an offending value
// (a string, an object), never the value, which may be a secret.
//
// # Concurrency
//
// A [Template] is immutable: compile it once and evaluate it from any
// number of goroutines, with resolvers that are safe for that use.
package expr
