# The mcp-runtime image: one binary that runs every role (operator, gateway, sentinel, bridge, …).
#
#   docker build -t ghcr.io/mcp-runtime/mcp-runtime:0.1.0 .
#
# Without a container engine or registry access, scripts/build-image.sh builds the same runtime
# image offline from a release binary, as an archive for `docker load` / `podman load` /
# `kind load image-archive` (docs/install.md).

FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p mcp-runtime \
 && install -D -m 0755 target/release/mcp-runtime /out/usr/local/bin/mcp-runtime

# distroless/cc: glibc, libgcc, CA certificates and a nonroot user (65532), nothing else: no
# shell, no package manager. The binary links only libc, libm and libgcc_s.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ /
USER 65532:65532
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/mcp-runtime"]
