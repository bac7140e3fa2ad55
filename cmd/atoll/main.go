// Command atoll is Atoll's single binary: the global core, regional cells,
// game servers, load tests and a local development stack.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"global":     {"run the global core (identity, profiles, economy)", runGlobal},
	"cell":       {"run a regional cell (matchmaking, sessions, game-server fleet)", runCell},
	"gameserver": {"run the reference game server (started by a cell)", runGameserver},
	"dev":        {"run a local development stack and walk through it", runDev},
	"loadtest":   {"load-test an Atoll deployment and report throughput and latency", runLoadtest},
	"relay":      {"run a relay (ping beacon, routing, forwarded play)", runRelay},
	"topology":   {"validate a topology folder or render its Kubernetes manifests (atoll topology validate|render)", runTopology},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "atoll: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "atoll %s: %v\n", args[0], err)
		var ue *usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: atoll <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'atoll <command> --help' for its flags; every flag also reads ATOLL_<FLAG_NAME>.")
}
