package snowflake_test

import (
	"context"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/snowflake"
	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

func openFixture(srv *sftest.Server) func(t *testing.T) *sqlwh.Warehouse {
	return func(t *testing.T) *sqlwh.Warehouse {
		wh, err := snowflake.Open(context.Background(), srv.URL("tester", "ANALYTICS", "PUBLIC", ""),
			snowflake.Credentials{Password: "tester-password"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wh.Close() })
		return wh
	}
}

// The conformance suite through the real gosnowflake driver: every
// statement is logged in, submitted, bound and decoded by the driver and
// answered by the in-process endpoint.
func TestConformanceThroughTheDriver(t *testing.T) {
	srv := sftest.Start(t)
	warehousetest.Run(t, warehousetest.Backend{Name: "snowflake (sftest)", Open: openFixture(srv)})
}
