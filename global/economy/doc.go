// Package economy owns all value in the game: currencies, wallets, the
// store and catalog, inventories, the ledger, grants and level progression.
package economy
