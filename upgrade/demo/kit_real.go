//go:build !windows

package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"omflow-upgrade/upgrade/pkg"
)

// NewRealKit makes, under dir, an installation of OMFLOW's own release installed from
// the folder of releases (running under Django's server), a key pair, and a signed
// package of the release update, packed with installed's tree as the base of its config
// files and the release's own license (GPLv3) as its license text.
func NewRealKit(ctx context.Context, dir, releases, installed, update string) (*Kit, error) {
	d := &Kit{Dir: dir, Root: filepath.Join(dir, "omflow")}
	if err := d.makeKeys(); err != nil {
		return nil, err
	}
	name := "omflow_update_" + strings.ReplaceAll(update, ".", "_")
	src, base, lic := filepath.Join(dir, "src-"+name), filepath.Join(dir, "base-"+name), filepath.Join(dir, "license-"+name)
	for folder, v := range map[string]string{src: update, base: installed} {
		if err := ExtractRelease(ctx, RealRelease(releases, v), folder); err != nil {
			return nil, err
		}
	}
	text, err := os.ReadFile(filepath.Join(src, "server", "LICENSE"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(lic, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(lic, "en.txt"), text, 0o644); err != nil {
		return nil, err
	}
	k, err := pkg.LoadPrivateKey(d.key, "")
	if err != nil {
		return nil, err
	}
	d.Package = filepath.Join(dir, name+".tar.gz")
	if _, err := pkg.Pack(ctx, pkg.PackOptions{SrcDir: src, Out: d.Package, Key: k, Keys: d.keys, Version: update,
		LicenseDir: lic, BaseDir: base}); err != nil {
		return nil, err
	}
	if _, err := CreateReal(ctx, RealOptions{Root: d.Root, Release: RealRelease(releases, installed)}); err != nil {
		return nil, err
	}
	return d, nil
}
