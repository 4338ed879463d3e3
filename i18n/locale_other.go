//go:build !windows

package i18n

// systemLocale is empty where the environment is the locale's only source.
func systemLocale() string { return "" }
