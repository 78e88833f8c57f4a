package settings

import (
	"fmt"
	"slices"
	"strings"
)

// expr is a parsed required_if / visible_if condition. The language is deliberately tiny:
//
//	expr    = and { "||" and }
//	and     = primary { "&&" primary }
//	primary = "(" expr ")" | VAR ( "==" | "!=" ) VALUE
//	VALUE   = bare word [A-Za-z0-9_.-]+ | "double quoted" | 'single quoted'
//
// VAR is one of the variables the catalogue knows (only "mode"); the right-hand side is always
// a literal, so `mode == i2v` compares mode with the string "i2v". Quoted strings have no
// escapes. && binds tighter than ||.
type expr struct {
	src  string
	root exprNode
}

// exprNode is a node of a parsed condition.
type exprNode interface {
	eval(env map[string]string) bool
	literals(dst []string) []string
}

type cmpNode struct {
	variable, value string
	negate          bool
}

func (n cmpNode) eval(env map[string]string) bool { return (env[n.variable] == n.value) != n.negate }

func (n cmpNode) literals(dst []string) []string { return append(dst, n.value) }

type boolNode struct {
	and         bool
	left, right exprNode
}

func (n boolNode) eval(env map[string]string) bool {
	if n.and {
		return n.left.eval(env) && n.right.eval(env)
	}
	return n.left.eval(env) || n.right.eval(env)
}

func (n boolNode) literals(dst []string) []string {
	return n.right.literals(n.left.literals(dst))
}

// exprVariables are the names a condition may test.
var exprVariables = []string{"mode"}

// evalMode evaluates the condition for a request in mode.
func (e *expr) evalMode(mode string) bool {
	return e.root.eval(map[string]string{"mode": mode})
}

// String returns the condition as written in the file.
func (e *expr) String() string { return e.src }

// literals returns every value the condition compares against, in source order.
func (e *expr) literals() []string { return e.root.literals(nil) }

// parseExpr parses a condition.
func parseExpr(src string) (*expr, error) {
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.toks[p.pos].text, p.toks[p.pos].off)
	}
	return &expr{src: src, root: root}, nil
}

type tokKind int

const (
	tokWord   tokKind = iota // bare word
	tokString                // quoted string
	tokOp                    // == != && || ( )
)

type exprTok struct {
	kind tokKind
	text string
	off  int
}

// lexExpr splits a condition into tokens.
func lexExpr(src string) ([]exprTok, error) {
	var toks []exprTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, exprTok{tokOp, string(c), i})
			i++
		case strings.HasPrefix(src[i:], "==") || strings.HasPrefix(src[i:], "!=") ||
			strings.HasPrefix(src[i:], "&&") || strings.HasPrefix(src[i:], "||"):
			toks = append(toks, exprTok{tokOp, src[i : i+2], i})
			i += 2
		case c == '"' || c == '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			toks = append(toks, exprTok{tokString, src[i+1 : i+1+end], i})
			i += end + 2
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			toks = append(toks, exprTok{tokWord, src[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at offset %d", c, i)
		}
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty condition")
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

type exprParser struct {
	toks []exprTok
	pos  int
}

func (p *exprParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == tokOp && p.toks[p.pos].text == op
}

func (p *exprParser) or() (exprNode, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekOp("||") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = boolNode{and: false, left: left, right: right}
	}
	return left, nil
}

func (p *exprParser) and() (exprNode, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peekOp("&&") {
		p.pos++
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		left = boolNode{and: true, left: left, right: right}
	}
	return left, nil
}

func (p *exprParser) primary() (exprNode, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("unexpected end of condition")
	}
	if p.peekOp("(") {
		p.pos++
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peekOp(")") {
			return nil, fmt.Errorf("missing ')'")
		}
		p.pos++
		return inner, nil
	}
	v := p.toks[p.pos]
	if v.kind != tokWord || !slices.Contains(exprVariables, v.text) {
		return nil, fmt.Errorf("expected a variable (%s) at offset %d, found %q", strings.Join(exprVariables, ", "), v.off, v.text)
	}
	p.pos++
	if !p.peekOp("==") && !p.peekOp("!=") {
		return nil, fmt.Errorf("expected == or != after %q", v.text)
	}
	op := p.toks[p.pos].text
	p.pos++
	if p.pos >= len(p.toks) || p.toks[p.pos].kind == tokOp {
		return nil, fmt.Errorf("expected a value after %s", op)
	}
	lit := p.toks[p.pos].text
	p.pos++
	return cmpNode{variable: v.text, value: lit, negate: op == "!="}, nil
}
