package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileBytes bounds one topology file: a region with dozens of cells and
// relays is a few KiB, so 1 MiB only stops a mistake (a log file dropped in
// the folder) from being read whole.
const MaxFileBytes = 1 << 20

// MaxFiles bounds the files in a folder: one per region plus the core's, and
// far more regions than any deployment has.
const MaxFiles = 1000

// file is one topology file: a region or the core's endpoints.
type file struct {
	Version int     `yaml:"version"`
	Core    *Core   `yaml:"core"`
	Region  *Region `yaml:"region"`
}

// Files lists the topology files of dir: *.yaml and *.yml, not hidden
// (editors' swap and backup files start with a dot or end otherwise), sorted.
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	var files []string
	for _, e := range entries {
		if isTopologyFile(e.Name()) && !e.IsDir() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) > MaxFiles {
		return nil, fmt.Errorf("topology: %s holds %d files, more than %d", dir, len(files), MaxFiles)
	}
	slices.Sort(files)
	return files, nil
}

func isTopologyFile(name string) bool {
	ext := filepath.Ext(name)
	return !strings.HasPrefix(name, ".") && (ext == ".yaml" || ext == ".yml")
}

// Load reads and validates every topology file of dir. A folder that breaks
// any rule returns Problems naming each file and line; a World is returned
// only when there are none.
func Load(dir string) (*World, error) {
	names, err := Files(dir)
	if err != nil {
		return nil, err
	}
	var (
		w     World
		cores []*Core
		files []string // the file of each core
		ps    Problems
	)
	if len(names) == 0 {
		return nil, Problems{{File: dir, Message: "no topology files (*.yaml) in the folder"}}
	}
	for _, name := range names {
		f, fps := parseFile(name)
		ps = append(ps, fps...)
		if f == nil {
			continue
		}
		if f.Core != nil {
			cores = append(cores, f.Core)
			files = append(files, name)
		}
		if f.Region != nil {
			f.Region.File = name
			w.Regions = append(w.Regions, *f.Region)
		}
	}
	switch {
	case len(cores) == 0:
		ps = append(ps, Problem{File: dir, Message: "no file declares the core (a file with a top-level \"core:\")"})
	case len(cores) > 1:
		for i := 1; i < len(cores); i++ {
			ps = append(ps, problemAt(files[i], cores[i].at, "", "the core is declared again (first in %s)", files[0]))
		}
	default:
		w.Core = *cores[0]
		ps = append(ps, checkCore(files[0], &w.Core)...)
	}
	ps = append(ps, checkRegions(w.Regions)...)
	if len(ps) > 0 {
		sortProblems(ps)
		return nil, ps
	}
	slices.SortFunc(w.Regions, func(a, b Region) int { return strings.Compare(a.ID, b.ID) })
	return &w, nil
}

// parseFile decodes one file; a nil file means it could not be decoded.
func parseFile(name string) (*file, Problems) {
	data, err := readLimited(name)
	if err != nil {
		return nil, Problems{{File: name, Message: err.Error()}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlProblems(name, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, Problems{{File: name, Message: "empty file: declare a region or the core"}}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, Problems{{File: name, Line: doc.Line, Column: doc.Column, Message: "a topology file is a mapping with \"version\" and \"region\" or \"core\""}}
	}
	var f file
	if err := doc.Decode(&f); err != nil {
		return nil, yamlProblems(name, err)
	}
	at := positionOf(doc, &f)
	var ps Problems
	for _, k := range at.unknown {
		ps = append(ps, problemAt(name, at, k, "unknown key %q (want version, region or core)", k))
	}
	if f.Version != FormatVersion {
		ps = append(ps, problemAt(name, at, "version", "version must be %d", FormatVersion))
	}
	switch {
	case f.Core == nil && f.Region == nil:
		ps = append(ps, problemAt(name, at, "", "the file declares neither a region nor the core"))
	case f.Core != nil && f.Region != nil:
		ps = append(ps, problemAt(name, at, "core", "declare the core and each region in files of their own"))
	}
	if f.Region != nil {
		want := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
		if f.Region.ID != "" && f.Region.ID != want {
			ps = append(ps, problemAt(name, f.Region.at, "id", "region %q must be declared in a file named %s.yaml (one file per region)", f.Region.ID, f.Region.ID))
		}
	}
	return &f, ps
}

func readLimited(name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(fh, MaxFileBytes+1)); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if buf.Len() > MaxFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileBytes)
	}
	return buf.Bytes(), nil
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlProblems turns yaml.v3's errors ("yaml: line 4: ...") into Problems
// with the line moved where the other messages have it.
func yamlProblems(name string, err error) Problems {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	ps := make(Problems, 0, len(msgs))
	for _, m := range msgs {
		p := Problem{File: name, Message: m}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			p.Line, _ = strconv.Atoi(sub[1])
			p.Column = 1
			p.Message = sub[2]
		}
		ps = append(ps, p)
	}
	return ps
}

func problemAt(name string, at position, key, format string, args ...any) Problem {
	line, col := at.at(key)
	return Problem{File: name, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}
