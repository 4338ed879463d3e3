package app

import (
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"aead.dev/minisign"
	"fyne.io/fyne/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"omflow-upgrade/i18n"
	"omflow-upgrade/upgrade"
	"omflow-upgrade/upgrade/demo"
	"omflow-upgrade/upgrade/pkg"
	"omflow-upgrade/upgrade/trust"
	"omflow-upgrade/wizard"
)

// TestCheckScreenShowsRevokedKey: the installation keeps a keys document that revokes
// the release key the package is signed with; the check screen says so in every
// language, and Update stays disabled.
func TestCheckScreenShowsRevokedKey(t *testing.T) {
	d := newTestDemo(t, demo.KitInstalled)
	_, root, err := minisign.GenerateKey(rand.Reader)
	require.NoError(t, err)
	next, _, err := minisign.GenerateKey(rand.Reader)
	require.NoError(t, err)
	demoKey, err := pkg.LoadPublicKey(d.ReleaseKey)
	require.NoError(t, err)
	doc1, err := trust.Init(root, trust.Change{Add: []minisign.PublicKey{demoKey}, Now: time.Now()})
	require.NoError(t, err)
	doc2, err := trust.Rotate(doc1, root, trust.Change{Add: []minisign.PublicKey{next}, Revoke: []minisign.PublicKey{demoKey}, Now: time.Now()})
	require.NoError(t, err)
	require.NoError(t, trust.Keep(filepath.Join(d.Root, ".omflow-upgrade"), doc2))

	h := start(t, d, d.Package, nil)
	h.toCheck()
	h.checkDone()
	st, text, detail := item(t, h.a.check.checks, upgrade.CheckTrust)
	assert.Equal(t, wizard.Failed, st)
	assert.Equal(t, h.en.T("check.name.trust", nil), text)
	id := pkg.KeyID(demoKey.ID())
	assert.Equal(t, h.en.T("check.refused.keyRevoked", map[string]any{"Key": id}), detail)
	assert.Contains(t, detail, id)
	assert.Equal(t, h.en.T("check.signature.refused", nil), h.a.check.updSig.Text)
	assert.False(t, h.a.check.allowUnsigned.Visible(), "allowing unsigned packages lifts no revocation")
	_, nextButton, _ := h.buttons()
	assert.True(t, nextButton.Disabled(), "Update stays disabled")

	bundle := i18n.MustLoad()
	for _, lang := range []string{"zh-Hant", "zh-Hans", "ja"} {
		fyne.DoAndWait(func() { h.a.SetLanguage(lang) })
		loc := bundle.Localizer(lang)
		_, text, detail := item(t, h.a.check.checks, upgrade.CheckTrust)
		assert.Equal(t, loc.T("check.name.trust", nil), text, lang)
		assert.Equal(t, loc.T("check.refused.keyRevoked", map[string]any{"Key": id}), detail, lang)
		assert.NotEqual(t, h.en.T("check.refused.keyRevoked", map[string]any{"Key": id}), detail, lang)
	}
	serves(t, d.Root, demo.KitInstalled)
}

// TestTrustTextsInEveryLanguage: each reason of the keys document has its words in every
// language, with every value filled in.
func TestTrustTextsInEveryLanguage(t *testing.T) {
	_, root, err := minisign.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rel, _, err := minisign.GenerateKey(rand.Reader)
	require.NoError(t, err)
	doc, err := trust.Init(root, trust.Change{Add: []minisign.PublicKey{rel}, MinVersion: "1.1.6.2", Now: time.Now()})
	require.NoError(t, err)
	id := pkg.KeyID(rel.ID())
	bundle := i18n.MustLoad()
	for _, tc := range []struct {
		item upgrade.CheckItem
		doc  *trust.Signed
	}{
		{upgrade.CheckItem{Name: upgrade.CheckTrust, OK: true}, doc},
		{upgrade.CheckItem{Name: upgrade.CheckTrust, OK: true, Warning: true, Reason: upgrade.ReasonKeysMissing}, nil},
		{upgrade.CheckItem{Name: upgrade.CheckTrust, Reason: upgrade.ReasonKeyExpired}, doc},
		{upgrade.CheckItem{Name: upgrade.CheckTrust, Reason: upgrade.ReasonKeyRevoked}, doc},
		{upgrade.CheckItem{Name: upgrade.CheckTrust, Reason: upgrade.ReasonPackageRevoked}, doc},
		{upgrade.CheckItem{Name: upgrade.CheckTrust, Reason: upgrade.ReasonBelowFloor}, doc},
		{upgrade.CheckItem{Name: upgrade.CheckTrust, Reason: upgrade.ReasonKeysRollback}, doc},
	} {
		r := &upgrade.CheckReport{Update: "1.1.6.1", Package: &pkg.Package{KeyID: id, Trust: &trust.Verdict{Doc: tc.doc, KeyID: id}}}
		vers := map[string]any{"Update": r.Update}
		key := trustText(r, tc.item, vers)
		require.NotEmpty(t, key, tc.item.Reason)
		for _, lang := range []string{"en", "zh-Hant", "zh-Hans", "ja"} {
			text := bundle.Localizer(lang).T(key, vers)
			assert.NotEqual(t, key, text, lang)
			assert.NotContains(t, text, "<no value>", "%s %s", lang, key)
		}
	}
}
