package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/trust"
)

// trustFixture is a demo installation, root keys, release keys and a keys document.
type trustFixture struct {
	*fixture
	root1Pub, root1Key, root2Pub, root2Key string
	rel1Pub, rel1Key, rel2Pub, rel2Key     string
	keys                                   string // keys.json, serial 1: root 1 trusts release key 1
	n                                      int
}

func newTrustFixture(t *testing.T) *trustFixture {
	t.Helper()
	f := &trustFixture{fixture: newFixture(t, "1.1.6.1")}
	keygen := func(name string, root bool) (pub, key string) {
		dir := filepath.Join(f.dir, name)
		args := []string{"keygen", "-out", dir}
		base := "omflow-upgrade"
		if root {
			args = []string{"keygen", "-root", "-out", dir}
			base = "omflow-upgrade-root"
		}
		if r := cmd(t, args...); r.code != 0 {
			t.Fatalf("keygen: %+v", r)
		}
		return filepath.Join(dir, base+".pub"), filepath.Join(dir, base+".key")
	}
	f.root1Pub, f.root1Key = keygen("root1", true)
	f.root2Pub, f.root2Key = keygen("root2", true)
	f.rel1Pub, f.rel1Key = keygen("rel1", false)
	f.rel2Pub, f.rel2Key = keygen("rel2", false)
	f.keys = filepath.Join(f.dir, "keys.json")
	if r := cmd(t, "keys", "init", "-root-key", f.root1Key, "-add", f.rel1Pub, "-out", f.keys); r.code != 0 {
		t.Fatalf("keys init: %+v", r)
	}
	return f
}

// pack builds a package of v signed by key, carrying the keys document keys ("" none).
func (f *trustFixture) pack(t *testing.T, v, key, keys string) string {
	t.Helper()
	f.n++
	src := filepath.Join(f.dir, "src-"+v+"-"+string(rune('a'+f.n)))
	os.MkdirAll(filepath.Join(src, "server", "omflow"), 0o755)
	os.WriteFile(filepath.Join(src, "server", "omflow", "views.py"), []byte("# "+src+"\n"), 0o644)
	out := src + ".tar.gz"
	args := []string{"pack", "-key", key, "-version", v, "-out", out}
	if keys != "" {
		args = append(args, "-keys", keys)
	}
	if r := cmd(t, append(args, src)...); r.code != 0 {
		t.Fatalf("pack: %+v", r)
	}
	return out
}

// rotate runs keys rotate on f.keys, into a new file it returns.
func (f *trustFixture) rotate(t *testing.T, in, rootKey string, args ...string) string {
	t.Helper()
	f.n++
	out := filepath.Join(f.dir, "keys-"+string(rune('a'+f.n))+".json")
	r := cmd(t, append([]string{"keys", "rotate", "-root-key", rootKey, "-in", in, "-out", out}, args...)...)
	if r.code != 0 {
		t.Fatalf("keys rotate: %+v", r)
	}
	return out
}

func (f *trustFixture) keep(t *testing.T, keys string) {
	t.Helper()
	os.RemoveAll(filepath.Join(f.root, ".omflow-upgrade", "trust"))
	s, err := trust.ReadFiles(keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := trust.Keep(filepath.Join(f.root, ".omflow-upgrade"), s); err != nil {
		t.Fatal(err)
	}
}

func keptSerial(t *testing.T, root string) uint64 {
	t.Helper()
	s, err := trust.LoadKept(filepath.Join(root, ".omflow-upgrade"))
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return 0
	}
	return s.Doc.Serial
}

// TestTrustRefusals: each refusal of the keys document is exit 3 with its reason code in
// check -json (top level and the trust check) and in the log, for check and apply; apply
// changes nothing, the kept document included.
func TestTrustRefusals(t *testing.T) {
	f := newTrustFixture(t)
	revokedPkg := f.pack(t, "1.1.6.3", f.rel1Key, f.keys)
	keys2 := f.rotate(t, f.keys, f.root1Key, "-add", f.rel2Pub, "-revoke", f.rel1Pub, "-revoke-package", revokedPkg, "-min-version", "1.1.6.2")
	keys3 := f.rotate(t, keys2, f.root1Key, "-expires", "30")

	// A document whose release key expired a month ago (as keys rotate cannot write it).
	expiredKeys := filepath.Join(f.dir, "expired.json")
	root1, _ := pkg.LoadPrivateKey(f.root1Key, "")
	rel1, _ := pkg.LoadPublicKey(f.rel1Pub)
	old, err := trust.Init(root1, trust.Change{Add: []minisign.PublicKey{rel1}, Now: time.Now().AddDate(0, 0, -400)})
	if err != nil {
		t.Fatal(err)
	}
	old.WriteFiles(expiredKeys)
	if r := cmd(t, "pack", "-key", f.rel1Key, "-keys", expiredKeys, "-version", "1.1.6.3", "-out", filepath.Join(t.TempDir(), "x.tar.gz"), filepath.Join(f.dir, "src")); r.code != 2 || !strings.Contains(r.stderr, "expired") {
		t.Fatalf("pack with an expired key: %+v", r)
	}
	for _, tc := range []struct {
		name, kept, pkg, reason string
	}{
		{"revoked key (signed directly, the old way)", keys2, f.pack(t, "1.1.6.3", f.rel1Key, ""), string(trust.ReasonKeyRevoked)},
		{"revoked package", keys2, revokedPkg, string(trust.ReasonPackageRevoked)},
		{"below the floor", "", f.pack(t, "1.1.6.1fix1", f.rel2Key, keys3), string(trust.ReasonBelowFloor)},
		{"older keys document than the kept one", keys3, f.pack(t, "1.1.6.3", f.rel2Key, keys2), string(trust.ReasonRollback)},
		{"expired release key", expiredKeys, f.pack(t, "1.1.6.3", f.rel1Key, ""), string(trust.ReasonKeyExpired)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.RemoveAll(filepath.Join(f.root, ".omflow-upgrade", "trust"))
			if tc.kept != "" {
				f.keep(t, tc.kept)
			}
			keptBefore := keptSerial(t, f.root)
			before := tree(t, f.root)
			r := cmd(t, "check", "-root", f.root, "-pubkey", f.root1Pub, "-json", tc.pkg)
			if r.code != 3 {
				t.Fatalf("check: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
			}
			j := r.json(t)
			if j["reason"] != tc.reason || j["allowed"] != false {
				t.Errorf("check -json reason %v, want %s", j["reason"], tc.reason)
			}
			found := false
			for _, c := range j["checks"].([]any) {
				c := c.(map[string]any)
				if c["name"] == "trust" && c["reason"] == tc.reason && c["ok"] == false {
					found = true
				}
			}
			if !found {
				t.Errorf("no failed trust check with reason %s: %v", tc.reason, j["checks"])
			}
			log, _ := os.ReadFile(j["log"].(string))
			if !strings.Contains(string(log), "check trust: ok=false reason="+tc.reason) {
				t.Errorf("the log lacks the reason:\n%s", log)
			}
			r = cmd(t, "apply", "-root", f.root, "-pubkey", f.root1Pub, "-accept-license", "-json", tc.pkg)
			if r.code != 3 {
				t.Fatalf("apply: exit %d, want 3 (%s)\n%s%s", r.code, tc.reason, r.stdout, r.stderr)
			}
			log, _ = os.ReadFile(r.json(t)["log"].(string))
			if !strings.Contains(string(log), "error (exit 3, reason "+tc.reason+")") {
				t.Errorf("apply's log lacks the reason:\n%s", log)
			}
			sameTree(t, before, tree(t, f.root))
			if got := keptSerial(t, f.root); got != keptBefore {
				t.Errorf("kept document serial %d -> %d on a refusal", keptBefore, got)
			}
		})
	}
}

// TestTrustChainOfTwoRotations: an installation whose program trusts root 1 takes a
// package whose keys document rotates the root (cross-signed by root 1), keeps it, then
// a package whose document only root 2 signs; a key revoked in it, and root 1 alone,
// are refused from then on. A bad chain is exit 2.
func TestTrustChainOfTwoRotations(t *testing.T) {
	f := newTrustFixture(t)
	keys2 := f.rotate(t, f.keys, f.root1Key, "-new-root-key", f.root2Key, "-add", f.rel2Pub)
	if _, err := os.Stat(keys2 + ".cross.minisig"); err != nil {
		t.Fatal("the root rotation is not cross-signed")
	}
	keys3 := f.rotate(t, keys2, f.root2Key, "-revoke", f.rel1Pub)
	if r := cmd(t, "keys", "rotate", "-root-key", f.root1Key, "-in", keys2, "-out", filepath.Join(f.dir, "x.json")); r.code != 2 {
		t.Fatalf("rotate with the replaced root: %+v", r)
	}
	p3 := f.pack(t, "1.1.6.3", f.rel2Key, keys3)
	old := []string{"-root", f.root, "-pubkey", f.root1Pub}

	// document 3 before 2: root 2 is not trusted yet
	if r := cmd(t, append([]string{"check"}, append(old, p3)...)...); r.code != 2 || !strings.Contains(r.stderr, "does not trust") {
		t.Fatalf("document 3 first: %+v", r)
	}
	p2 := f.pack(t, "1.1.6.2", f.rel2Key, keys2)
	if r := cmd(t, append([]string{"apply", "-accept-license"}, append(old, p2)...)...); r.code != 0 {
		t.Fatalf("apply the root rotation: %+v", r)
	}
	if got := keptSerial(t, f.root); got != 2 {
		t.Fatalf("kept serial %d, want 2", got)
	}
	r := cmd(t, append([]string{"apply", "-accept-license", "-json"}, append(old, p3)...)...)
	if r.code != 0 {
		t.Fatalf("apply with document 3: %+v", r)
	}
	if got := keptSerial(t, f.root); got != 3 {
		t.Fatalf("kept serial %d, want 3", got)
	}
	// the old release key is revoked; root 1 alone signs nothing any more
	if r := cmd(t, append([]string{"check", "-json"}, append(old, f.pack(t, "1.1.6.4", f.rel1Key, ""))...)...); r.code != 3 || r.json(t)["reason"] != string(trust.ReasonKeyRevoked) {
		t.Fatalf("revoked key: %+v", r)
	}
	forged := filepath.Join(f.dir, "forged.json")
	if r := cmd(t, "keys", "init", "-root-key", f.root1Key, "-add", f.rel1Pub, "-out", forged); r.code != 0 {
		t.Fatal(r)
	}
	if r := cmd(t, append([]string{"check"}, append(old, f.pack(t, "1.1.6.4", f.rel1Key, forged))...)...); r.code != 3 && r.code != 2 {
		t.Fatalf("document by the old root: %+v", r)
	}
}

// TestTrustDocumentsVerifyWithMinisign: keys init, rotate and a root rotation write
// files the standard minisign tool verifies, and pack puts them into the package.
func TestTrustDocumentsVerifyWithMinisign(t *testing.T) {
	mini, err := exec.LookPath("minisign")
	if err != nil {
		t.Fatal("minisign is not installed: run make deps-test (apt-get install minisign)")
	}
	f := newTrustFixture(t)
	keys2 := f.rotate(t, f.keys, f.root1Key, "-new-root-key", f.root2Key, "-add", f.rel2Pub)
	for _, v := range []struct{ file, sig, pub string }{
		{f.keys, f.keys + ".minisig", f.root1Pub},
		{keys2, keys2 + ".minisig", f.root2Pub},
		{keys2, keys2 + ".cross.minisig", f.root1Pub},
	} {
		if out, err := exec.Command(mini, "-V", "-m", v.file, "-x", v.sig, "-p", v.pub).CombinedOutput(); err != nil {
			t.Errorf("minisign -V -m %s -x %s: %v\n%s", v.file, v.sig, err, out)
		}
	}
	p := f.pack(t, "1.1.6.3", f.rel2Key, keys2)
	x := t.TempDir()
	if out, err := exec.Command("tar", "xzf", p, "-C", x).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	for _, v := range []struct{ file, sig, pub string }{
		{"manifest.json", "manifest.json.minisig", f.rel2Pub},
		{"keys.json", "keys.json.minisig", f.root2Pub},
		{"keys.json", "keys.json.cross.minisig", f.root1Pub},
	} {
		if out, err := exec.Command(mini, "-V", "-m", filepath.Join(x, v.file), "-x", filepath.Join(x, v.sig), "-p", v.pub).CombinedOutput(); err != nil {
			t.Errorf("minisign -V %s in the package: %v\n%s", v.sig, err, out)
		}
	}
}

// TestDirectSignatureWarns: a package signed the old way (no keys document) is still
// taken during the transition, with a warning in check's output.
func TestDirectSignatureWarns(t *testing.T) {
	f := newFixture(t, "1.1.6.1")
	r := cmd(t, "check", "-root", f.root, "-pubkey", f.pub, f.pkg)
	if r.code != 0 || !strings.Contains(r.stdout, "[warn] trust") || !strings.Contains(r.stdout, "no keys document") {
		t.Fatalf("direct signature: %+v", r)
	}
	r = cmd(t, "check", "-root", f.root, "-pubkey", f.pub, "-json", f.pkg)
	for _, c := range r.json(t)["checks"].([]any) {
		if c := c.(map[string]any); c["name"] == "trust" && (c["reason"] != "keys-missing" || c["warning"] != true) {
			t.Errorf("trust check %v", c)
		}
	}
}

// TestTrustPlanFollowsRootRotation: in a folder of packages, the one whose document
// only the new root signs is planned after the one that rotates the root, and apply
// walks both.
func TestTrustPlanFollowsRootRotation(t *testing.T) {
	f := newTrustFixture(t)
	keys2 := f.rotate(t, f.keys, f.root1Key, "-new-root-key", f.root2Key, "-add", f.rel2Pub)
	keys3 := f.rotate(t, keys2, f.root2Key, "-revoke", f.rel1Pub)
	dir := filepath.Join(f.dir, "updates")
	os.MkdirAll(dir, 0o755)
	// named so that the folder lists the newer one first
	os.Rename(f.pack(t, "1.1.6.3", f.rel2Key, keys2), filepath.Join(dir, "b.tar.gz"))
	os.Rename(f.pack(t, "1.1.6.4", f.rel2Key, keys3), filepath.Join(dir, "a.tar.gz"))
	r := cmd(t, "plan", "-root", f.root, "-pubkey", f.root1Pub, "-json", dir)
	j := r.json(t)
	if r.code != 0 || len(j["steps"].([]any)) != 2 || len(j["skipped"].([]any)) != 0 {
		t.Fatalf("plan: %+v", r)
	}
	if r := cmd(t, "apply", "-root", f.root, "-pubkey", f.root1Pub, "-accept-license", "-json", dir); r.code != 0 || r.json(t)["version"] != "1.1.6.4" {
		t.Fatalf("apply the folder: %+v", r)
	}
	if got := keptSerial(t, f.root); got != 3 {
		t.Fatalf("kept serial %d, want 3", got)
	}
}
