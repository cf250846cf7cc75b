# eventaudit in a container: build with cgo (DuckDB is a C++ library linked
# into the binary), run as a non-root user on a small image with glibc,
# libstdc++ and CA certificates, and nothing else.
#
#   docker build -t eventaudit --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -v "$PWD:/work" eventaudit audit --config eventaudit.yml

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# The tags every build of eventaudit uses (Makefile): duckdb_arrow, the Arrow
# read path; minicore_disabled, no native library written out at each start;
# and GOEXPERIMENT=simd, the scanner's 16-byte string scan.
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 GOEXPERIMENT=simd go build -tags duckdb_arrow,minicore_disabled -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/eventaudit ./cmd/eventaudit \
 && /out/eventaudit version

# distroless/cc: glibc and libstdc++ for the DuckDB engine, CA certificates
# for the warehouses, S3 and Slack, a nonroot user, no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/eventaudit /usr/local/bin/eventaudit
# The config, schemas and a DuckDB file are mounted here.
WORKDIR /work
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/eventaudit"]
CMD ["--help"]
