package cell

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/atollgg/atoll/cell/matchmaker"
	"gopkg.in/yaml.v3"
)

// maxModesFile bounds the modes file: a few hundred bytes per mode.
const maxModesFile = 1 << 20

// modesFile is the layout of ATOLL_MODES_FILE.
type modesFile struct {
	Modes []matchmaker.Mode `yaml:"modes"`
}

// LoadModes reads and validates a YAML modes file: {modes: [...]}, each
// mode in matchmaker.Mode's YAML fields. Unknown fields are errors, so a
// typo never silently falls back to a default.
func LoadModes(path string) ([]matchmaker.Mode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("modes file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxModesFile+1))
	if err != nil {
		return nil, fmt.Errorf("modes file %s: %w", path, err)
	}
	if len(data) > maxModesFile {
		return nil, fmt.Errorf("modes file %s: larger than %d bytes", path, maxModesFile)
	}
	return ParseModes(data)
}

// ParseModes decodes and validates the YAML of a modes file.
func ParseModes(data []byte) ([]matchmaker.Mode, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var mf modesFile
	if err := dec.Decode(&mf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("modes file is empty")
		}
		return nil, fmt.Errorf("modes file: %w", err)
	}
	if len(mf.Modes) == 0 {
		return nil, errors.New("modes file lists no modes")
	}
	if err := matchmaker.ValidateModes(mf.Modes); err != nil {
		return nil, fmt.Errorf("modes file: %w", err)
	}
	return mf.Modes, nil
}
