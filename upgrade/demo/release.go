//go:build !windows

package demo

import "context"

// ExtractRelease lays OMFLOW's release tarball out under dir as a release engineer's
// tree (server/...), the way pack reads a release; dir must be empty or missing.
func ExtractRelease(ctx context.Context, tarball, dir string) error {
	_, err := extractRelease(ctx, tarball, dir)
	return err
}
