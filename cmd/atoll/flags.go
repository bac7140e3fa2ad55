package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// envFlags is a flag set whose every flag falls back to an ATOLL_* variable,
// so operators configure by flags, environment or both (flags win).
type envFlags struct {
	*flag.FlagSet
	secret map[string]bool
}

func newFlags(name string, stderr io.Writer) *envFlags {
	fs := flag.NewFlagSet("atoll "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &envFlags{FlagSet: fs, secret: map[string]bool{}}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: atoll %s [flags]\n\nflags (each also read from the environment variable shown):\n", name)
		fs.VisitAll(func(fl *flag.Flag) {
			def := fl.DefValue
			if f.secret[fl.Name] {
				def = ""
			}
			fmt.Fprintf(stderr, "  --%s  (%s)\n      %s", fl.Name, envName(fl.Name), fl.Usage)
			if def != "" {
				fmt.Fprintf(stderr, " (default %q)", def)
			}
			fmt.Fprintln(stderr)
		})
	}
	return f
}

func envName(flagName string) string {
	return "ATOLL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// markSecret keeps a flag's value out of --help output.
func (f *envFlags) markSecret(names ...string) {
	for _, n := range names {
		f.secret[n] = true
	}
}

// parse reads args, then fills every flag not given on the command line
// from its environment variable.
func (f *envFlags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", f.Args())
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var err error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(fl.Name)); ok {
			if serr := f.Set(fl.Name, v); serr != nil {
				err = fmt.Errorf("%s: %v", envName(fl.Name), serr)
			}
		}
	})
	return err
}

// durationOrZero is a helper for flags whose zero value means "off".
func durationOrZero(d time.Duration) time.Duration { return max(d, 0) }
