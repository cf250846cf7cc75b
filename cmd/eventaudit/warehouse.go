package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse"
)

// openWarehouse opens the warehouse a URL names with the credentials the
// environment holds, first recording every secret so that no error or log
// line can print one.
func openWarehouse(ctx context.Context, d *deps, rawURL string) (*warehouse.Warehouse, error) {
	d.secrets.Add(warehouse.Secrets(rawURL)...)
	creds, err := warehouseCredentials(d.getenv)
	d.secrets.Add(creds.Password, creds.PrivateKeyPEM, creds.PrivateKeyPassphrase, creds.Token)
	if err != nil {
		return nil, err
	}
	return warehouse.Open(ctx, rawURL, creds)
}

// warehouseCredentials reads the Snowflake secrets the URL should not
// carry (Postgres and Redshift read PGPASSWORD through pgx).
func warehouseCredentials(getenv func(string) string) (warehouse.Credentials, error) {
	c := warehouse.Credentials{
		Password:             getenv("SNOWFLAKE_PASSWORD"),
		PrivateKeyPEM:        getenv("SNOWFLAKE_PRIVATE_KEY"),
		PrivateKeyPassphrase: getenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"),
		Token:                getenv("SNOWFLAKE_TOKEN"),
	}
	if path := getenv("SNOWFLAKE_PRIVATE_KEY_FILE"); path != "" && c.PrivateKeyPEM == "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, audit.Configf(fmt.Errorf("SNOWFLAKE_PRIVATE_KEY_FILE: %w", err))
		}
		c.PrivateKeyPEM = string(b)
	}
	return c, nil
}

// checkReadOptions checks what every command that reads the warehouse
// (runs, query) needs: a warehouse, and a limit of at least one row.
func checkReadOptions(warehouse string, limit int) error {
	switch {
	case warehouse == "":
		return usageError{errors.New("no warehouse: pass --warehouse or set it in eventaudit.yml")}
	case limit < 1:
		return usageError{fmt.Errorf("--limit %d: must be at least 1", limit)}
	}
	return nil
}
