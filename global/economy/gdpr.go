package economy

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// maxExportRows bounds each list of an export; far above what a player
// accumulates, low enough to keep one export's memory bounded.
const maxExportRows = 10000

// ExportSection is the player's economy data in GET /player/me/export.
type ExportSection struct {
	Wallet       Balances        `json:"wallet"`
	Inventory    []InventoryItem `json:"inventory"`
	Transactions []Transaction   `json:"transactions"`
}

// Export returns everything the economy stores about playerID, for
// players.Service.AddExport("economy", ...). It creates nothing.
func (s *Service) Export(ctx context.Context, playerID string) (any, error) {
	var out ExportSection
	var err error
	if out.Wallet, _, err = s.readBalances(ctx, s.db.Pool, playerID); err != nil {
		return nil, err
	}
	inv, err := s.Inventory(ctx, playerID, false, maxExportRows, "")
	if err != nil {
		return nil, err
	}
	txs, err := s.Transactions(ctx, playerID, maxExportRows, "")
	if err != nil {
		return nil, err
	}
	out.Inventory, out.Transactions = inv.Items, txs.Transactions
	return out, nil
}

// Erase removes the player's inventory and idempotency records inside the
// erasure transaction, for players.Service.AddEraser. The ledger and wallet
// rows stay: they are financial records the operator must keep (GDPR art.
// 17(3)(b)), hold no personal data beyond the tombstoned player id, and
// keep every reconciliation and chargeback traceable.
func (s *Service) Erase(ctx context.Context, tx pgx.Tx, playerID string) error {
	for _, q := range []string{
		`DELETE FROM inventory_items WHERE player_id = $1`,
		`DELETE FROM economy_requests WHERE player_id = $1`,
	} {
		if _, err := tx.Exec(ctx, q, playerID); err != nil {
			return fmt.Errorf("erase economy data: %w", err)
		}
	}
	return nil
}
