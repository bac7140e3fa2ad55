// Package password owns how player passwords are hashed (argon2id, PHC strings), verified and vetted against the signup policy.
package password
