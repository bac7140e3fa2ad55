// Package deploy owns Atoll's deployment artefacts: it renders the
// Kubernetes manifests of the global core and of every region (cells as
// StatefulSets with a JetStream volume, relays behind a UDP Service) from
// the world's regions, and checks them against the Kubernetes API types.
package deploy
