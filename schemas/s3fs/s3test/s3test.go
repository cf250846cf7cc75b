// Package s3test serves a real S3 HTTP API (gofakes3) on 127.0.0.1 for
// tests that drive the real aws-sdk-go-v2 client against it.
package s3test

import (
	"bytes"
	"io/fs"
	"net/http/httptest"
	"path"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is an in-process S3.
type Server struct {
	URL     string
	backend *s3mem.Backend
}

// Start serves S3 until the test ends.
func Start(t testing.TB) *Server {
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return &Server{URL: srv.URL, backend: backend}
}

// Put stores an object, creating the bucket if needed. Seeding through the
// backend avoids the SDK's need for a seekable body over plain HTTP.
func (s *Server) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	if ok, _ := s.backend.BucketExists(bucket); !ok {
		if err := s.backend.CreateBucket(bucket); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
}

// PutFS copies every file of fsys under prefix.
func (s *Server) PutFS(t testing.TB, bucket, prefix string, fsys fs.FS) int {
	t.Helper()
	n := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		s.Put(t, bucket, path.Join(prefix, p), b)
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Client is the real SDK client, pointed at the server with static
// credentials and path-style addressing.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}
