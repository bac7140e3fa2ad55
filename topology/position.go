package topology

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// position is where an entity was declared: its own line and column, the
// line of each of its keys, and the keys the format does not know.
type position struct {
	line, col int
	keys      map[string][2]int // key -> line, column
	unknown   []string          // keys not in the format, in file order
}

// positionOf records n's position, checking its keys against the yaml tags
// of the struct type of v.
func positionOf(n *yaml.Node, v any) position {
	p := position{line: n.Line, col: n.Column, keys: map[string][2]int{}}
	if n.Kind != yaml.MappingNode {
		return p
	}
	known := yamlKeys(reflect.TypeOf(v))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		p.keys[k.Value] = [2]int{k.Line, k.Column}
		if !slices.Contains(known, k.Value) {
			p.unknown = append(p.unknown, k.Value)
		}
	}
	return p
}

// at returns the line and column of key, or of the entity if the key is
// absent (a missing required field is reported where its owner starts).
func (p position) at(key string) (int, int) {
	if lc, ok := p.keys[key]; ok {
		return lc[0], lc[1]
	}
	return p.line, p.col
}

func yamlKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// The UnmarshalYAML methods decode the plain struct and keep its position.

func (c *Core) UnmarshalYAML(n *yaml.Node) error {
	type plain Core
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.at = positionOf(n, c)
	return nil
}

func (r *Region) UnmarshalYAML(n *yaml.Node) error {
	type plain Region
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	r.at = positionOf(n, r)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "fallback" {
			for _, item := range n.Content[i+1].Content {
				r.fallbackPos = append(r.fallbackPos, [2]int{item.Line, item.Column})
			}
		}
	}
	return nil
}

func (l *Location) UnmarshalYAML(n *yaml.Node) error {
	type plain Location
	if err := n.Decode((*plain)(l)); err != nil {
		return err
	}
	l.at = positionOf(n, l)
	return nil
}

func (c *Cell) UnmarshalYAML(n *yaml.Node) error {
	type plain Cell
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.at = positionOf(n, c)
	return nil
}

func (r *Relay) UnmarshalYAML(n *yaml.Node) error {
	type plain Relay
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	r.at = positionOf(n, r)
	return nil
}

// Problem is one broken rule, at the place in a file that breaks it.
type Problem struct {
	File    string
	Line    int
	Column  int
	Message string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
}

// Problems is every broken rule of a folder, in file and line order; it is
// the error Load returns for a folder that does not validate.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
