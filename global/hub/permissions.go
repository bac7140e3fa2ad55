package hub

import (
	"github.com/atollgg/atoll/contract"
	"github.com/nats-io/nats-server/v2/server"
)

// LeafPermissions confines cell id's leaf connection. Seen from the cell
// (nats-server reverses them inside the hub): it may publish only what its
// own sourcing needs (its deliveries under contract.HubDeliverPrefix,
// replies to the hub's consumer requests, flow-control replies and the
// consumer requests of its GLOBAL_IN source), and receive only the hub's
// JetStream requests for its own domain and its GLOBAL_IN deliveries. So a
// cell can never publish global.* or another cell's cell.<id>.* into the
// hub, nor reach the hub's JetStream API beyond reading GLOBAL_EVENTS.
func LeafPermissions(id string) *server.Permissions {
	globalAPI := contract.JSAPIPrefix(contract.GlobalDomain)
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			contract.HubDeliverPrefix(id) + ".>",
			"$JSC.R.>", // replies to the hub's consumer-create requests
			"$JS.FC.>", // flow-control replies of the GLOBAL_IN source
			globalAPI + ".CONSUMER.CREATE." + contract.GlobalEventsStream,
			globalAPI + ".CONSUMER.CREATE." + contract.GlobalEventsStream + ".>",
			globalAPI + ".CONSUMER.INFO." + contract.GlobalEventsStream + ".>",
			globalAPI + ".STREAM.INFO." + contract.GlobalEventsStream,
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{
			contract.JSAPIPrefix(id) + ".>",
			contract.CellDeliverPrefix(id) + ".>",
			"$JSC.R.>",
			"$JS.FC.>",
		}},
	}
}
