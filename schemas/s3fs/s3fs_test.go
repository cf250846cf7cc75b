package s3fs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/schemas/s3fs"
	"github.com/eventaudit/eventaudit/schemas/s3fs/s3test"
	"github.com/google/go-cmp/cmp"
)

func reflektDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "corpora", "reflekt-example", "schemas")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing under CI", dir)
		}
		t.Skip(dir, "not found")
	}
	return dir
}

func TestLoadFromS3EqualsDisk(t *testing.T) {
	dir := reflektDir(t)
	srv := s3test.Start(t)
	srv.PutFS(t, "plans", "tracking/schemas", os.DirFS(dir))
	ctx := context.Background()
	fsys, err := s3fs.New(ctx, srv.Client(), "plans", "tracking/schemas/")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "segment/ecommerce/Order Completed/1-0.json", ".reflekt/event-meta/1-0.json"); err != nil {
		t.Fatal(err)
	}
	for _, plan := range []string{"", "segment/ecommerce"} {
		fromS3, err3 := schemas.Load(ctx, fsys, schemas.Options{Plan: plan})
		fromDisk, errD := schemas.Load(ctx, os.DirFS(dir), schemas.Options{Plan: plan})
		if err3 != nil || errD != nil {
			t.Fatal(err3, errD)
		}
		if diff := cmp.Diff(fromDisk.Schemas(), fromS3.Schemas()); diff != "" {
			t.Errorf("plan %q: schemas differ (-disk +s3):\n%s", plan, diff)
		}
		if fromDisk.Digest() != fromS3.Digest() {
			t.Errorf("plan %q: digests differ", plan)
		}
		if len(fromS3.Schemas()) != 16 {
			t.Errorf("%d schemas from S3, want 16", len(fromS3.Schemas()))
		}
	}
}

// More than one page of ListObjectsV2 (1,000 keys): every object is seen.
func TestPagination(t *testing.T) {
	srv := s3test.Start(t)
	const n = 1234
	for i := range n {
		name := fmt.Sprintf("Event %04d", i)
		srv.Put(t, "big", fmt.Sprintf("p/shop/%s/1-0.json", name),
			[]byte(`{"self":{"name":"`+name+`","version":"1-0"},"type":"object"}`))
	}
	srv.Put(t, "big", "elsewhere/x/A/1-0.json", []byte(`{}`))
	ctx := context.Background()
	fsys, err := s3fs.New(ctx, srv.Client(), "big", "p")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Load(ctx, fsys, schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Len() != n {
		t.Errorf("%d schemas, want %d: pagination lost some", reg.Len(), n)
	}
	if _, ok := reg.ByName("Event 1233"); !ok {
		t.Error("the last page's schema is missing")
	}
}

func TestMissingBucketNamesIt(t *testing.T) {
	srv := s3test.Start(t)
	srv.Put(t, "exists", "a.json", []byte(`{}`))
	_, err := s3fs.New(context.Background(), srv.Client(), "no-such-bucket", "schemas")
	if err == nil || !strings.Contains(err.Error(), `S3 bucket "no-such-bucket" does not exist`) {
		t.Errorf("got %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for in, want := range map[string]string{
		"s3://b/p/q/": "b|p/q", "s3://b": "b|", "s3://b/": "b|",
	} {
		b, p, err := s3fs.ParseURL(in)
		if err != nil || b+"|"+p != want {
			t.Errorf("ParseURL(%q) = %q %q %v, want %s", in, b, p, err, want)
		}
	}
	for _, bad := range []string{"s3://", "s3:///p", "/tmp/x", "gs://b/p"} {
		if _, _, err := s3fs.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}
