package schema

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// realReleases holds OMFLOW's own releases (see its README), beside the repository.
var realReleases = filepath.Join("..", "..", "..", "shared", "omflow-real")

// realDB extracts server/db.omflow of an OMFLOW release into a temporary directory.
func realDB(t *testing.T, version string) string {
	t.Helper()
	archive := filepath.Join(realReleases, "omflow-"+version+".tar.gz")
	f, err := os.Open(archive)
	if err != nil {
		t.Fatalf("this test needs OMFLOW's real release %s: %v", version, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", archive, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s has no server/db.omflow", archive)
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if strings.TrimPrefix(h.Name, "./") != "server/db.omflow" {
			continue
		}
		path := filepath.Join(t.TempDir(), "db.omflow")
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

// 1.0.0.1 to 1.1.0.0, OMFLOW's own schema change: three language_package columns that
// are NOT NULL without an SQL default (Django's model default is '{}') and api_path.
func TestRealRelease(t *testing.T) {
	const form = "omformmodel_omdata_7f811b732ddf44d4995aeffdc56ad2ba"
	ctx := context.Background()
	site := realDB(t, "1.0.0.1")
	release := realDB(t, "1.1.0.0")
	// The site's form holds data, as a site's would.
	execDB(t, site,
		`INSERT INTO `+form+` (flow_uuid, dataid_header, data_no, history, closed, running, error, createtime, updatetime, is_child, formitm_1)
		 VALUES ('7f811b732ddf44d4995aeffdc56ad2ba', 'ABC', 1, 0, 0, 0, 0, '2020-09-01 10:00:00', '2020-09-01 10:00:00', 0, 'site data')`,
		`INSERT INTO `+form+`_datano (createtime) VALUES ('2020-09-01 10:00:00')`)
	s, r := read(t, site), read(t, release)

	if got, want := NeedsValue(s, r), []string{"omformflow_activeapplication.language_package", "omformflow_workspaceapplication.language_package", "omservice_omservicedesign.language_package"}; !reflect.DeepEqual(got, want) {
		t.Errorf("NeedsValue = %q, want %q", got, want)
	}
	_, err := Plan(s, r, nil)
	wantUnsafe(t, "Plan without values", err, []unsafeAt{
		{"omformflow_activeapplication", "language_package", "Django's model gives no default"},
		{"omformflow_workspaceapplication", "language_package", "Django's model gives no default"},
	})

	values := Values{
		"omformflow_activeapplication.language_package":    "{}",
		"omformflow_workspaceapplication.language_package": "{}",
		"omservice_omservicedesign.language_package":       "{}",
	}
	want := &Changes{Columns: []ColumnAdd{
		// Django's model default becomes the column's DEFAULT: added by ALTER, no rebuild.
		{Table: "omformflow_activeapplication", Column: "language_package", Definition: `"language_package" text NOT NULL DEFAULT '{}'`, Value: "{}"},
		{Table: "omformflow_flowactive", Column: "api_path", Definition: `"api_path" varchar(500) NULL`},
		{Table: "omformflow_workspaceapplication", Column: "language_package", Definition: `"language_package" text NOT NULL DEFAULT '{}'`, Value: "{}"},
		{Table: "omservice_omservicedesign", Column: "language_package", Definition: `"language_package" text NOT NULL DEFAULT '{}'`, Value: "{}"},
	}}
	plan, err := Plan(s, r, values)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plan, want) {
		t.Errorf("Plan\n got %+v\nwant %+v", plan, want)
	}

	kept := takeKept(t, site)
	releaseBefore := stateOf(t, release)
	applied, err := Apply(ctx, site, release, values)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(applied, want) {
		t.Errorf("Apply\n got %+v\nwant %+v", applied, want)
	}
	if stateOf(t, release) != releaseBefore {
		t.Error("the release's file changed")
	}
	onlyFiles(t, filepath.Dir(site), "db.omflow")
	checkKept(t, site, kept)

	after := read(t, site)
	for name, rt := range r.Tables {
		at := after.Tables[name]
		switch {
		case IsRuntimeFormTable(name):
			if at != nil {
				t.Errorf("the release's form table %q was made in the site", name)
			}
			continue
		case at == nil:
			t.Errorf("table %q missing", name)
			continue
		}
		for _, rc := range rt.Columns {
			ac, ok := at.column(rc.Name)
			if _, given := values[name+"."+rc.Name]; ok && given && ac.Default != nil && *ac.Default == "'{}'" {
				ac.Default = nil // Django's default, declared as the column's DEFAULT
			}
			if !ok || !reflect.DeepEqual(ac, rc) {
				t.Errorf("table %q column %q: %+v, want %+v", name, rc.Name, ac, rc)
			}
		}
	}
	// 1.0.0.1's code, after a rollback that keeps today's database, inserts without
	// language_package: the DEFAULT fills it.
	execDB(t, site, `INSERT INTO omservice_omservicedesign (content) VALUES ('from the old code')`)
	wantRows(t, site, `SELECT language_package FROM omservice_omservicedesign WHERE content = 'from the old code'`, "{}")
	for name, ix := range r.Indexes {
		if !IsRuntimeFormTable(ix.Table) && (after.Indexes[name] == nil || after.Indexes[name].SQL != ix.SQL) {
			t.Errorf("index %q: %+v, want %+v", name, after.Indexes[name], ix)
		}
	}
	for name, st := range s.Tables {
		if at := after.Tables[name]; at == nil || at.Rows != st.Rows {
			t.Errorf("table %q: %+v, want %d rows", name, at, st.Rows)
		}
	}
	for _, name := range []string{form, form + "_datano", form + "_valuehistory"} {
		if !reflect.DeepEqual(after.Tables[name], s.Tables[name]) {
			t.Errorf("the site's form table %q changed: %+v", name, after.Tables[name])
		}
	}
	wantRows(t, site, `SELECT formitm_1 FROM `+form, "site data")
	wantRows(t, site, `SELECT app_name, language_package FROM omformflow_activeapplication`, "任務處理|{}")
	wantRows(t, site, `PRAGMA foreign_key_check`)
	if again, err := Plan(after, r, values); err != nil || !again.Empty() {
		t.Errorf("after Apply, Plan gives %+v, %v; want nothing", again, err)
	}
}
