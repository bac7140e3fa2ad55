// Package pii owns encryption of personal data at rest (AES-256-GCM under rotating key ids) and the keyed blind indexes used to look it up.
package pii
