// Package netnstest owns what the network-namespace routing test needs:
// iproute2 namespaces joined by a bridge, and a forwarder that delays every
// UDP datagram and TCP chunk by a fixed one-way time (kernels here lack
// netem), standing in for a region's distance.
package netnstest
