package warehouse

import (
	"bytes"
	"flag"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Every column of every result table is described: a column added to the
// DDL without a description fails here, before a dbt project shows it
// blank.
func TestResultColumnsAreDescribed(t *testing.T) {
	for _, doc := range resultDocs {
		cols := resultColumns(doc.table)
		if len(cols) == 0 {
			t.Fatalf("%s: no columns", doc.table)
		}
		for _, c := range cols {
			if doc.columns[c] == "" {
				t.Errorf("%s.%s has no description", doc.table, c)
			}
		}
		if len(doc.columns) != len(cols) {
			t.Errorf("%s: %d descriptions for %d columns (a dropped column keeps its description)", doc.table, len(doc.columns), len(cols))
		}
	}
}

func TestDBTSourcesParse(t *testing.T) {
	var b bytes.Buffer
	if err := (DBTSources{Name: "eventaudit", Schema: "analytics_eventaudit"}).Write(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int
		Sources []struct {
			Name, Schema string
			Tables       []struct {
				Name    string
				Columns []struct {
					Name      string
					DataTests []any `yaml:"data_tests"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Version != 2 || len(doc.Sources) != 1 || doc.Sources[0].Schema != "analytics_eventaudit" || len(doc.Sources[0].Tables) != 4 {
		t.Fatalf("unexpected file:\n%s", b.String())
	}
	warehousetest.Golden(t, filepath.Join("testdata", "dbt_sources.yml"), b.String(), *update)
}
