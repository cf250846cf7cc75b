package main

import (
	"os"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/postgres/pgtest"
)

// pgURL is a PostgreSQL server for the tests that need one, started once.
var pgURL, pgErr = "", error(nil)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(url string, err error) { pgURL, pgErr = url, err }))
}
