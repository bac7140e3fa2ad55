package matchmaker

import (
	"fmt"
	"time"
)

// Duration is a time.Duration that reads and writes as a Go duration string
// ("30s", "1m30s") in both YAML and JSON, so mode files stay readable.
type Duration time.Duration

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText parses a Go duration string such as "45s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: want a Go duration such as \"30s\" or \"2m\": %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// String formats the duration like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }
