package economy

import (
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/internal/httpx"
)

// Stable error codes of the economy API, beyond httpx's generic ones.
const (
	CodeInsufficientFunds = "insufficient_funds"
	CodeWalletInDebt      = "wallet_in_debt"
	CodeSoldOut           = "sold_out"
	CodeNotOnSale         = "not_on_sale"
	CodeLimitReached      = "purchase_limit_reached"
	CodeStackFull         = "stack_full"
	CodeKeyReused         = "idempotency_key_reused"
	CodeUnknownItem       = "unknown_item"
	CodeUnknownPlayer     = "unknown_player"
)

// Errors returned by the Go API. Each is an *httpx.Error, so a handler can
// return it as is; test with errors.Is.
var (
	ErrInsufficientFunds = httpx.Conflict(CodeInsufficientFunds, "not enough funds")
	ErrWalletInDebt      = httpx.Conflict(CodeWalletInDebt, "this currency is in debt after a reversed payment; spending it is blocked until the debt is paid")
	ErrSoldOut           = httpx.Conflict(CodeSoldOut, "this item is sold out")
	ErrNotOnSale         = httpx.Conflict(CodeNotOnSale, "this item is not on sale")
	ErrLimitReached      = httpx.Conflict(CodeLimitReached, "this purchase would exceed the item's per-player limit")
	ErrStackFull         = httpx.Conflict(CodeStackFull, "this would exceed the item's maximum stack")
	ErrKeyReused         = httpx.Conflict(CodeKeyReused, "this idempotency key was already used with a different request")
	ErrUnknownItem       = httpx.Errorf(http.StatusNotFound, CodeUnknownItem, "no such item")
	ErrUnknownPlayer     = httpx.Errorf(http.StatusNotFound, CodeUnknownPlayer, "no such player")
)

// detailed is a sentinel with a more specific message: errors.Is matches the
// sentinel, errors.As finds an *httpx.Error carrying the message.
type detailed struct {
	base *httpx.Error
	he   *httpx.Error
}

func (e *detailed) Error() string        { return e.he.Error() }
func (e *detailed) Unwrap() error        { return e.he }
func (e *detailed) Is(target error) bool { return target == e.base }

func detail(base *httpx.Error, format string, args ...any) error {
	he := *base
	he.Message = fmt.Sprintf(format, args...)
	return &detailed{base: base, he: &he}
}
