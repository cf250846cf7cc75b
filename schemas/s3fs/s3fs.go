// Package s3fs exposes an S3 prefix as a read-only fs.FS, so the schemas
// loader has one code path for a directory and a bucket; Put writes the
// one object eventaudit publishes there, an HTML report.
package s3fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// API is the part of the S3 client the FS uses.
type API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// FS is a snapshot of the object keys under a prefix, listed once at New;
// object bodies are fetched when opened. fs.FS methods take no context, so
// the one given to New bounds every request.
type FS struct {
	ctx    context.Context
	client API
	bucket string
	prefix string // "" or ending in "/"
	files  map[string]int64
	dirs   map[string][]string // dir → sorted child names
}

// ParseURL splits s3://BUCKET/PREFIX.
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok || rest == "" || strings.HasPrefix(rest, "/") {
		return "", "", fmt.Errorf("%q is not s3://BUCKET/PREFIX", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, strings.Trim(prefix, "/"), nil
}

// New lists every object under s3://bucket/prefix, following pagination.
func New(ctx context.Context, client API, bucket, prefix string) (*FS, error) {
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		prefix += "/"
	}
	f := &FS{ctx: ctx, client: client, bucket: bucket, prefix: prefix,
		files: map[string]int64{}, dirs: map[string][]string{".": nil}}
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, describe(err, bucket, prefix)
		}
		for _, obj := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(obj.Key), prefix)
			if name == "" || strings.HasSuffix(name, "/") || !fs.ValidPath(name) {
				continue // folder markers and keys fs.FS cannot name
			}
			f.files[name] = aws.ToInt64(obj.Size)
			f.addParents(name)
		}
	}
	for d := range f.dirs {
		slices.Sort(f.dirs[d])
		f.dirs[d] = slices.Compact(f.dirs[d])
	}
	return f, nil
}

// addParents records name in its directory and every directory above it;
// New sorts and de-duplicates the listings once at the end.
func (f *FS) addParents(name string) {
	for name != "." {
		dir := path.Dir(name)
		f.dirs[dir] = append(f.dirs[dir], path.Base(name))
		name = dir
	}
}

// describe turns SDK errors into what a person should check.
func describe(err error, bucket, prefix string) error {
	where := "s3://" + bucket + "/" + prefix
	var nsb *types.NoSuchBucket
	var api smithy.APIError
	switch {
	case errors.As(err, &nsb):
		return fmt.Errorf("S3 bucket %q does not exist: check the bucket name and the region (AWS_REGION)", bucket)
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket":
		return fmt.Errorf("S3 bucket %q does not exist: check the bucket name and the region (AWS_REGION)", bucket)
	case errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "Forbidden"):
		return fmt.Errorf("access denied listing %s: the credentials in use need s3:ListBucket and s3:GetObject on it", where)
	case strings.Contains(err.Error(), "failed to retrieve credentials"), strings.Contains(err.Error(), "no EC2 IMDS role found"):
		return fmt.Errorf("no AWS credentials for %s: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an instance or task role", where)
	}
	return fmt.Errorf("list %s: %w", where, err)
}

// Open implements fs.FS.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if _, ok := f.dirs[name]; ok {
		return &dir{fsys: f, name: name}, nil
	}
	if _, ok := f.files[name]; !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	data, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &file{info: info{name: path.Base(name), size: int64(len(data))}, Reader: bytes.NewReader(data)}, nil
}

// ReadFile implements fs.ReadFileFS.
func (f *FS) ReadFile(name string) ([]byte, error) {
	if _, ok := f.files[name]; !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	out, err := f.client.GetObject(f.ctx, &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(f.prefix + name)})
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: "s3://" + f.bucket + "/" + f.prefix + name, Err: describe(err, f.bucket, f.prefix)}
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// ReadDir implements fs.ReadDirFS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	children, ok := f.dirs[name]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(children))
	for _, c := range children {
		full := path.Join(name, c)
		if _, isDir := f.dirs[full]; isDir {
			out = append(out, fs.FileInfoToDirEntry(info{name: c, dir: true}))
		} else {
			out = append(out, fs.FileInfoToDirEntry(info{name: c, size: f.files[full]}))
		}
	}
	return out, nil
}

type info struct {
	name string
	size int64
	dir  bool
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.dir }
func (i info) Sys() any           { return nil }
func (i info) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

type file struct {
	info info
	*bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

type dir struct {
	fsys    *FS
	name    string
	entries []fs.DirEntry // loaded on the first ReadDir
	loaded  bool
}

func (d *dir) Stat() (fs.FileInfo, error) { return info{name: path.Base(d.name), dir: true}, nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dir) Close() error { return nil }

// ReadDir follows fs.ReadDirFile: n > 0 returns at most n entries and
// io.EOF at the end; n <= 0 returns all that remain.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.loaded {
		entries, err := d.fsys.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.loaded = entries, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

// PutAPI is the part of the S3 client Put uses.
type PutAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Put writes one object at s3://BUCKET/KEY: a report, beside the schemas
// this package reads. The body is a bytes.Reader, which the SDK can seek
// to sign and checksum it.
func Put(ctx context.Context, client PutAPI, url string, body []byte, contentType string) error {
	bucket, key, err := ParseURL(url)
	if err != nil {
		return err
	}
	if key == "" || strings.HasSuffix(url, "/") {
		return fmt.Errorf("%q names no object: give s3://BUCKET/KEY, e.g. s3://%s/eventaudit/{run_id}.html", url, bucket)
	}
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String(contentType)})
	var api smithy.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket":
		return fmt.Errorf("S3 bucket %q does not exist: check the bucket name and the region (AWS_REGION)", bucket)
	case errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "Forbidden"):
		return fmt.Errorf("access denied writing %s: the credentials in use need s3:PutObject on it", url)
	}
	return fmt.Errorf("write %s: %w", url, err)
}
