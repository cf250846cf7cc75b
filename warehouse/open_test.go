package warehouse

import (
	"strings"
	"testing"
)

func TestRedactAndSecrets(t *testing.T) {
	tests := []struct {
		url, redacted string
		secrets       []string
	}{
		{"postgres://bob:s3cr%2Ft@db:5432/app", "postgres://bob:xxxxx@db:5432/app", []string{"s3cr%2Ft", "s3cr/t"}},
		{"postgres://bob:p@ss/w0rd@db/app?sslmode=require", "postgres://bob:xxxxx@db/app?sslmode=require", []string{"p@ss/w0rd"}},
		{"snowflake://bob@acct/db/s?warehouse=wh&password=hunter22", "snowflake://bob@acct/db/s?warehouse=wh&password=xxxxx", []string{"hunter22"}},
		{"duckdb://demo.duckdb", "duckdb://demo.duckdb", nil},
	}
	for _, tt := range tests {
		if got := Redact(tt.url); got != tt.redacted {
			t.Errorf("Redact(%s) = %s, want %s", tt.url, got, tt.redacted)
		}
		got := Secrets(tt.url)
		if strings.Join(got, " ") != strings.Join(tt.secrets, " ") {
			t.Errorf("Secrets(%s) = %q, want %q", tt.url, got, tt.secrets)
		}
	}
}
