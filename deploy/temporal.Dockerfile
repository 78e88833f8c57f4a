# gooni-temporal: a standalone Temporal server (every service in one process) on PostgreSQL. It
# creates the `temporal` and `temporal_visibility` databases when missing, sets up or upgrades
# their schemas, and registers the namespace and Gooni's search attributes. Not built here (no
# Docker engine on the development machines); `make test-prod` runs the same binary natively.
#   docker build -f deploy/temporal.Dockerfile -t gooni-temporal .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gooni-temporal ./cmd/gooni-temporal \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gooni ./cmd/gooni

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gooni-temporal /usr/local/bin/gooni-temporal
# gooni is here only for `gooni probe` in health checks.
COPY --from=build /out/gooni /usr/local/bin/gooni
ENV TEMPORAL_HOST=0.0.0.0
USER nonroot:nonroot
EXPOSE 7233
ENTRYPOINT ["/usr/local/bin/gooni-temporal"]
