// Package topology owns the declared world — regions, their cells and relays,
// and the global core's endpoints — loaded and validated from a folder of
// YAML files (one per region) and watched for changes.
package topology
