// Package players owns player profiles and the data-subject rights over
// them: the public profile, self-service edits, export and erasure.
package players
