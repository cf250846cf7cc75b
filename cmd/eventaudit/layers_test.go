package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The dependency rule of docs and DESIGN: cmd → {warehouse, schemas,
// reports} → audit. cmd never reaches past warehouse into the SQL layer,
// and audit imports none of its siblings. Test files may: they query the
// warehouses directly to check what was written.
func TestImportsPointOneWay(t *testing.T) {
	const module = "github.com/eventaudit/eventaudit/"
	rules := []struct {
		dir       string
		forbidden []string
	}{
		{"../../cmd", []string{module + "warehouse/sqlwh", module + "warehouse/duckdb", module + "warehouse/postgres",
			module + "warehouse/snowflake", module + "warehouse/segment"}},
		{"../../audit", []string{module + "warehouse", module + "schemas", module + "reports", module + "cmd", module + "redact"}},
	}
	for _, r := range rules {
		err := filepath.WalkDir(r.dir, func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			// audittest is the tests' helper package, not audit itself.
			if strings.Contains(filepath.ToSlash(path), "/audittest/") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range r.forbidden {
					if p == bad || strings.HasPrefix(p, bad+"/") {
						t.Errorf("%s imports %s", path, p)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
