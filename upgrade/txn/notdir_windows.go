//go:build windows

package txn

func isNotDir(error) bool { return false }
