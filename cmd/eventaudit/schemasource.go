package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/schemas/s3fs"
)

// schemaSource is where the tracking plan is read from, and how to name a
// file in it for a person.
type schemaSource struct {
	fsys fs.FS
	root string // DIR or s3://BUCKET/PREFIX
}

func (s schemaSource) location(file string) string {
	return strings.TrimSuffix(s.root, "/") + "/" + file
}

// openSchemas opens a directory or s3://BUCKET/PREFIX.
func openSchemas(ctx context.Context, d *deps, src string) (schemaSource, error) {
	if strings.HasPrefix(src, "s3://") {
		bucket, prefix, err := s3fs.ParseURL(src)
		if err != nil {
			return schemaSource{}, usageError{fmt.Errorf("--schemas: %w", err)}
		}
		client, err := s3Client(ctx, d)
		if err != nil {
			return schemaSource{}, err
		}
		fsys, err := s3fs.New(ctx, client, bucket, prefix)
		if err != nil {
			return schemaSource{}, err // runtime: exit 3
		}
		return schemaSource{fsys: fsys, root: src}, nil
	}
	st, err := os.Stat(src)
	if err != nil || !st.IsDir() {
		return schemaSource{}, audit.Configf(fmt.Errorf("schemas directory %q not found: pass --schemas DIR (the folder holding your plans, e.g. schemas/) or s3://BUCKET/PREFIX", src))
	}
	// os.Root, unlike os.DirFS, refuses a symlink that leads out of the
	// folder: a plan's files are the folder's own.
	root, err := os.OpenRoot(src)
	if err != nil {
		return schemaSource{}, audit.Configf(fmt.Errorf("open schemas directory %q: %w", src, err))
	}
	return schemaSource{fsys: root.FS(), root: src}, nil
}

// s3Client uses the default AWS chain (profile, SSO, instance or task role),
// except that credentials and region in the injected environment win, and
// EVENTAUDIT_S3_ENDPOINT points at an S3-compatible store with path-style
// addressing.
func s3Client(ctx context.Context, d *deps) (*s3.Client, error) {
	// The SDK's own warnings (retries, clock skew, checksums) go through
	// slog like every other line, in --log-format json too.
	logger := d.logger
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.LoggerFunc(
		func(c logging.Classification, format string, v ...any) {
			level := slog.LevelDebug
			if c == logging.Warn {
				level = slog.LevelWarn
			}
			logger.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "aws-sdk")
		}))}
	if r := d.getenv("AWS_REGION"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if id := d.getenv("AWS_ACCESS_KEY_ID"); id != "" {
		secret, token := d.getenv("AWS_SECRET_ACCESS_KEY"), d.getenv("AWS_SESSION_TOKEN")
		d.secrets.Add(secret, token)
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, token)))
	}
	if d.getenv("AWS_EC2_METADATA_DISABLED") == "true" {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := d.getenv("EVENTAUDIT_S3_ENDPOINT")
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// S3-compatible stores often send no checksum; the SDK would log
		// that on every object.
		o.DisableLogOutputChecksumValidationSkipped = true
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// errNoSchemas: the schemas location holds no event schema.
var errNoSchemas = errors.New("no event schemas")

// loadRegistry loads and compiles the plan. Schemas that do not compile and
// a --plan that matches nothing are the user's to fix (exit 2); failing to
// read them at all is a runtime error (exit 3). With skipBroken, the schema
// files that do not compile are returned instead of failing the load; the
// registry counts their events as unplanned.
func loadRegistry(ctx context.Context, d *deps, src, plan string, assertFormat, skipBroken bool) (*schemas.Registry, []schemas.Info, error) {
	source, err := openSchemas(ctx, d, src)
	if err != nil {
		return nil, nil, err
	}
	reg, err := schemas.Load(ctx, source.fsys, schemas.Options{Plan: plan, AssertFormat: assertFormat})
	var le *schemas.LoadError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case errors.Is(err, schemas.ErrUnknownPlan):
		return nil, nil, audit.Configf(fmt.Errorf("--plan: %w", err))
	case errors.As(err, &le) && skipBroken:
	case errors.As(err, &le), audit.IsConfig(err):
		return nil, nil, audit.Configf(fmt.Errorf("schemas in %s: %w\n(--on-bad-schema skip audits the rest and reports these files)", src, err))
	default:
		return nil, nil, fmt.Errorf("read schemas from %s: %w", src, err)
	}
	if reg.Len() == 0 {
		return nil, nil, audit.Configf(fmt.Errorf("%w under %s: expected PLAN/EVENT/MAJOR-MINOR.json files", errNoSchemas, src))
	}
	var broken []schemas.Info
	for _, info := range reg.Schemas() {
		if info.Err != nil && schemas.InPlan(info.ID, plan) {
			broken = append(broken, info)
		}
	}
	return reg, broken, nil
}

// brokenSchemaFindings makes each skipped schema file a finding of the run:
// in the violations table, the report and the Slack digest.
func brokenSchemaFindings(broken []schemas.Info) []audit.Violation {
	var out []audit.Violation
	for _, b := range broken {
		out = append(out, audit.Violation{EventName: b.Name, SchemaID: b.ID, Keyword: audit.KeywordSchemaFile,
			Message: fmt.Sprintf("schema file %s does not compile, so its event's messages count as unplanned: %v", b.File, b.Err)})
	}
	return out
}
