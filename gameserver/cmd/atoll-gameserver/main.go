// Command atoll-gameserver runs Atoll's reference game server on its own,
// exactly as `atoll gameserver` does; the fleet's tests start it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/atollgg/atoll/gameserver/reference"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := reference.RunFromEnv(ctx, os.Getenv, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "atoll-gameserver: %v\n", err)
		os.Exit(1)
	}
}
