package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/atollgg/atoll/topology"
)

// errInvalidTopology is returned after the problems were printed, so the
// exit status is 1 without repeating them.
var errInvalidTopology = errors.New("the topology does not validate")

// runTopology runs `atoll topology validate DIR`: every rule of the folder
// checked, each problem printed as file:line:column: message, and a non-zero
// exit status for CI when there is any.
func runTopology(_ context.Context, args []string, stdout, stderr io.Writer) error {
	usage := func() {
		fmt.Fprintln(stderr, "usage: atoll topology validate DIR\n       atoll topology render [--image IMAGE] [--global-url URL] [--namespace NS] DIR OUT\n\n"+
			"validate checks every topology file in DIR (see topology/example) and prints each problem as file:line:column: message; exits 1 if there is any.\n"+
			"render writes DIR's Kubernetes manifests into OUT (global/ and regions/<region>/; see deploy/RUNBOOK.md).")
	}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		usage()
		return flag.ErrHelp
	}
	if len(args) > 0 && args[0] == "render" {
		return runTopologyRender(args[1:], stdout, stderr)
	}
	if len(args) != 2 || args[0] != "validate" {
		usage()
		return errors.New("want: validate DIR")
	}
	w, err := topology.Load(args[1])
	if err != nil {
		var ps topology.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintln(stderr, p)
			}
			return fmt.Errorf("%w: %d problems", errInvalidTopology, len(ps))
		}
		return err
	}
	cells, relays := 0, 0
	for _, r := range w.Regions {
		cells += len(r.Cells)
		relays += len(r.Relays)
	}
	fmt.Fprintf(stdout, "%s: ok (%d regions, %d cells, %d relays)\n", args[1], len(w.Regions), cells, relays)
	return nil
}
