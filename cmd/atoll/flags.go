package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
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

// usageError is a mistake on the command line or in the environment: the
// process exits 2, after one line saying what was wrong and a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// formValue makes a flag's parse error say what form the value takes.
type formValue struct {
	flag.Value
	form string
}

func (v formValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		return fmt.Errorf("want %s", v.form)
	}
	return nil
}

// IsBoolFlag keeps "--flag" without a value working for booleans.
func (v formValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// forms describe each flag type's values, by flag.UnquoteUsage's name.
var forms = map[string]string{
	"duration": "a duration such as 500ms, 30s, 5m or 1h",
	"int":      "a whole number",
	"uint":     "a whole number, 0 or more",
	"float":    "a number such as 1500 or 0.5",
	"":         "true or false",
}

// parse reads args, then fills every flag not given on the command line
// from its environment variable. Mistakes come back as *usageError: one
// line naming the flag or variable, the bad value and the expected form,
// and a hint to --help; --help itself prints the whole usage.
func (f *envFlags) parse(args []string) error {
	hint := fmt.Sprintf("(run '%s --help' for every flag)", f.Name())
	f.VisitAll(func(fl *flag.Flag) {
		if form, ok := forms[typeName(fl)]; ok {
			fl.Value = formValue{Value: fl.Value, form: form}
		}
	})
	// The flag package would print the error and the whole usage; the
	// caller prints one line instead.
	out, usage := f.Output(), f.Usage
	f.SetOutput(io.Discard)
	f.Usage = func() {}
	err := f.Parse(args)
	f.SetOutput(out)
	f.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return &usageError{fmt.Sprintf("%v %s", err, hint)}
	}
	if f.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected arguments: %q %s", f.Args(), hint)}
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(fl.Name)); ok {
			if serr := f.Set(fl.Name, v); serr != nil {
				shown := strconv.Quote(v)
				if f.secret[fl.Name] {
					shown = "(secret, not shown)"
				}
				err = &usageError{fmt.Sprintf("environment variable %s=%s: %v (or set --%s)", envName(fl.Name), shown, serr, fl.Name)}
			}
		}
	})
	return err
}

// typeName is the flag's value type as flag.UnquoteUsage names it:
// "duration", "int", "uint", "float", "string", "" for booleans, "value"
// for custom types.
func typeName(fl *flag.Flag) string {
	name, _ := flag.UnquoteUsage(fl)
	return name
}

// durationOrZero is a helper for flags whose zero value means "off".
func durationOrZero(d time.Duration) time.Duration { return max(d, 0) }
