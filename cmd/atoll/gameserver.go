package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/atollgg/atoll/gameserver/reference"
)

// runGameserver runs the reference game server. Its cell starts it and
// configures it through the environment (ATOLL_SDK_ADDR, ATOLL_SDK_SECRET,
// ATOLL_SERVER_ID, ATOLL_GAME_PORT, …; see gameserver/sdk), so it takes no flags.
func runGameserver(ctx context.Context, args []string, _, stderr io.Writer) error {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: atoll gameserver\n\nStarted by a cell's fleet, configured by the environment it sets (see gameserver/sdk/README.md).")
		if args[0] == "-h" || args[0] == "--help" {
			return nil
		}
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return reference.RunFromEnv(ctx, os.Getenv, stderr)
}
