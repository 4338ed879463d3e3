//go:build !windows

package install

const defaultRoot = "/opt/omflow"
