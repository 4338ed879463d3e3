package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/install"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/svc"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/upgrade/version"
)

// Kit is a stand-in installation with a signed package for it and the key that signed
// it, so that anyone can click through a whole upgrade (-demo, tests, screenshots).
type Kit struct {
	Dir        string // the folder holding everything
	Root       string // the installation
	PublicKey  string // the root's public key file: its keys document trusts ReleaseKey
	ReleaseKey string // the public key file of the release key that signs Package
	Package    string // the update package

	key  string        // the release key's secret key file
	keys *trust.Signed // the keys document every demo package carries
}

// makeKeys makes the demo's keys as release engineers do: a root key, a release key and
// the keys document (serial 1) by which the root trusts it.
func (d *Kit) makeKeys() error {
	dir := filepath.Join(d.Dir, "keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	rootPub, rootKey, err := pkg.GenerateRootKey(dir)
	if err != nil {
		return err
	}
	if d.ReleaseKey, d.key, err = pkg.GenerateKey(dir); err != nil {
		return err
	}
	root, err := pkg.LoadPrivateKey(rootKey, "")
	if err != nil {
		return err
	}
	rel, err := pkg.LoadPublicKey(d.ReleaseKey)
	if err != nil {
		return err
	}
	if d.keys, err = trust.Init(root, trust.Change{Add: []minisign.PublicKey{rel}, Now: time.Now()}); err != nil {
		return err
	}
	d.PublicKey = rootPub
	return d.keys.WriteFiles(filepath.Join(dir, trust.DocumentName))
}

// KitInstalled and KitUpdate are the versions of the -demo run: a fix release, the
// first example of the seed page.
const (
	KitInstalled = "1.1.6.1"
	KitUpdate    = "1.1.6.3"
)

// demoLicenses are the demo package's license texts, one per language of the wizard.
var demoLicenses = map[string]string{
	"en": "OMFLOW Server demo update: license agreement\n\n" +
		"This update is a demonstration package made by the OMFLOW Upgrade Wizard. It changes only " +
		"a stand-in installation in a temporary folder.\n\n" +
		"1. You may install this update on the demonstration installation it was made for.\n" +
		"2. The update is provided as is, without warranty of any kind.\n" +
		"3. Back up your data before you update a real OMFLOW server.\n",
	"zh-Hant": "OMFLOW Server 示範更新：授權合約\n\n" +
		"此更新是 OMFLOW 升級精靈製作的示範套件，只會變更暫存資料夾中的示範安裝。\n\n" +
		"1. 您可以將此更新安裝到為其製作的示範安裝上。\n" +
		"2. 此更新依「現狀」提供，不提供任何形式的保證。\n" +
		"3. 更新正式的 OMFLOW 伺服器之前，請先備份您的資料。\n",
	"zh-Hans": "OMFLOW Server 示范更新：许可协议\n\n" +
		"此更新是 OMFLOW 升级向导制作的示范软件包，只会更改临时文件夹中的示范安装。\n\n" +
		"1. 您可以将此更新安装到为其制作的示范安装上。\n" +
		"2. 此更新按“现状”提供，不提供任何形式的保证。\n" +
		"3. 更新正式的 OMFLOW 服务器之前，请先备份您的数据。\n",
	"ja": "OMFLOW Server デモ更新：使用許諾契約\n\n" +
		"この更新は OMFLOW アップグレードウィザードが作成したデモパッケージです。一時フォルダー内のデモ用インストールだけを変更します。\n\n" +
		"1. この更新は、作成対象のデモ用インストールにインストールできます。\n" +
		"2. この更新は現状のまま提供され、いかなる保証もありません。\n" +
		"3. 実際の OMFLOW サーバーを更新する前に、データをバックアップしてください。\n",
}

// NewKit makes, under dir (a new or empty folder), a demo installation of installed
// whose service runs, a key pair, and a signed package of KitUpdate with license texts
// in every language of the wizard. The demo service is the program running now (it must
// call Main first thing).
func NewKit(ctx context.Context, dir, installed string) (*Kit, error) {
	v, err := version.Parse(installed)
	if err != nil {
		return nil, err
	}
	d := &Kit{Dir: dir, Root: filepath.Join(dir, "omflow")}
	if err := d.makeKeys(); err != nil {
		return nil, err
	}
	if _, err := Create(ctx, Options{Root: d.Root, Version: v}); err != nil {
		return nil, err
	}
	d.Package, err = d.Pack(ctx, KitUpdate, nil)
	if err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// Pack builds a signed package of version v for the demo: the demo's own files of v,
// plus files (root-relative path to content; a script, starting with "#!", is made
// executable), with the demo's license texts.
func (d *Kit) Pack(ctx context.Context, v string, files map[string]string) (string, error) {
	return d.PackPython(ctx, v, "", files)
}

// PackPython is Pack for an update that requires Python python ("3.11").
func (d *Kit) PackPython(ctx context.Context, v, python string, files map[string]string) (string, error) {
	return d.PackWith(ctx, PackSpec{Version: v, Python: python, Files: files})
}

// PackSpec is what PackWith packs beyond the demo's own files.
type PackSpec struct {
	Version string
	// Python is the Python version the update requires ("3.11"), if any.
	Python string
	// Files are root-relative paths to content, over the demo's own files.
	Files map[string]string
	// Base, when set, is a version whose demo files are stored as the previous release's
	// copies of the config files (pack -base): the merge base.
	Base string
	// Delete lists root-relative paths the update removes.
	Delete []string
}

// PackWith builds a signed package for the demo as spec says.
func (d *Kit) PackWith(ctx context.Context, spec PackSpec) (string, error) {
	v := spec.Version
	name := "omflow_update_" + strings.ReplaceAll(v, ".", "_")
	src := filepath.Join(d.Dir, "src-"+name)
	lic := filepath.Join(d.Dir, "license-"+name)
	if err := writeRelease(src, v, spec.Files); err != nil {
		return "", err
	}
	baseDir := ""
	if spec.Base != "" {
		baseDir = filepath.Join(d.Dir, "base-"+name)
		if err := writeRelease(baseDir, spec.Base, nil); err != nil {
			return "", err
		}
	}
	for tag, text := range demoLicenses {
		p := filepath.Join(lic, tag+".txt")
		if err := os.MkdirAll(lic, 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	k, err := pkg.LoadPrivateKey(d.key, "")
	if err != nil {
		return "", err
	}
	out := filepath.Join(d.Dir, name+".tar.gz")
	if _, err := pkg.Pack(ctx, pkg.PackOptions{SrcDir: src, Out: out, Key: k, Keys: d.keys, Version: v, Python: spec.Python,
		LicenseDir: lic, BaseDir: baseDir, Delete: spec.Delete}); err != nil {
		return "", err
	}
	return out, nil
}

// writeRelease lays out under dir the demo's own files of version v (not its logs or
// database), then files over them.
func writeRelease(dir, v string, files map[string]string) error {
	ver, err := version.Parse(v)
	if err != nil {
		return err
	}
	all := map[string]string{}
	for rel, content := range Files(ver) {
		if !strings.HasPrefix(rel, "logs/") && rel != "server/db.omflow" {
			all[rel] = content
		}
	}
	for rel, content := range files {
		all[rel] = content
	}
	for rel, content := range all {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops the demo service (its files stay).
func (d *Kit) Stop() {
	in, err := install.Detect(d.Root, install.Config{})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = (&svc.Script{Argv: in.Control(), Dir: in.Root}).Stop(ctx)
}
