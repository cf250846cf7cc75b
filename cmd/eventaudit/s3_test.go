package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/schemas/s3fs/s3test"
)

// Auditing with the plan in S3 gives the same report as from disk.
func TestAuditWithSchemasFromS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.PutFS(t, "acme-tracking", "reflekt/schemas", os.DirFS(filepath.Join(root, "testdata/demo/schemas")))
	db := filepath.Join(t.TempDir(), "demo.duckdb")
	c := newCLI()
	if r := c.run("load", "--warehouse", "duckdb://"+db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	audit := func(schemas string, env map[string]string) result {
		c.env = env
		c.runIDs = 0
		return c.run("audit", "--warehouse", "duckdb://"+db, "--table", "events", "--schemas", schemas, "--plan", "segment/shop",
			"--since", "2026-11-20", "--until", "2026-11-21", "--format", "json", "--dry-run")
	}
	s3env := map[string]string{"EVENTAUDIT_S3_ENDPOINT": srv.URL, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "eu-west-1"}
	fromS3 := audit("s3://acme-tracking/reflekt/schemas", s3env)
	fromDisk := audit(filepath.Join(root, "testdata/demo/schemas"), nil)
	if fromS3.code != 0 || fromDisk.code != 0 {
		t.Fatalf("exit %d / %d: %s %s", fromS3.code, fromDisk.code, fromS3.stderr, fromDisk.stderr)
	}
	if fromS3.stdout != fromDisk.stdout {
		t.Errorf("reports differ:\nS3:\n%.600s\ndisk:\n%.600s", fromS3.stdout, fromDisk.stdout)
	}

	for _, tc := range []struct {
		name, schemas string
		env           map[string]string
		want          string
	}{
		{"missing bucket", "s3://no-such-bucket/schemas", s3env, `S3 bucket "no-such-bucket" does not exist`},
		{"no credentials", "s3://acme-tracking/reflekt/schemas",
			// IMDS off: the chain must not reach for an instance role.
			map[string]string{"EVENTAUDIT_S3_ENDPOINT": srv.URL, "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "eu-west-1"},
			"no AWS credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "no credentials" {
				// The SDK's default chain reads the process environment and
				// the shared files itself: hide whatever this machine has,
				// rather than skip.
				for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
					"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
					t.Setenv(k, "")
				}
				none := filepath.Join(t.TempDir(), "none")
				t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
				t.Setenv("AWS_CONFIG_FILE", none)
			}
			r := audit(tc.schemas, tc.env)
			if r.code != exitRuntime || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 3 and %q", r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr+r.stdout, secret) {
				t.Error("the secret key leaked")
			}
		})
	}
}
