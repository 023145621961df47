#!/usr/bin/env bash
# Builds the mcp-runtime container image without a container engine or a base image, as an image
# archive that `docker load`, `podman load` and `kind load image-archive` accept.
#
# The image holds what the Dockerfile's runtime stage holds: the binary, exactly the shared
# libraries `ldd` lists for it (and the dynamic loader), the CA certificates, a passwd/group entry
# for the non-root user 65532, and a writable /tmp. The archive is both an OCI image layout
# (oci-layout, index.json, blobs/) and a Docker archive (manifest.json), as `docker save` writes
# them, and it is reproducible: the same binary gives the same bytes.
#
#   scripts/build-image.sh [--binary PATH] [--tag IMAGE:TAG] [--output FILE]
#
# Defaults: target/release/mcp-runtime, ghcr.io/mcp-runtime/mcp-runtime:<its version>,
# target/image/mcp-runtime-image.tar.
set -euo pipefail

binary=target/release/mcp-runtime
tag=
output=target/image/mcp-runtime-image.tar
while (($#)); do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "build-image: $*" >&2; exit 1; }
for tool in ldd tar gzip sha256sum python3; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
[ -x "$binary" ] || die "no executable at $binary (build it first: cargo build --release -p mcp-runtime)"
version=$("$binary" --version | awk '{print $2}')
[ -n "$version" ] || die "$binary --version printed no version"
tag=${tag:-ghcr.io/mcp-runtime/mcp-runtime:$version}
case "$tag" in *:*) ;; *) tag="$tag:latest" ;; esac
arch=$(uname -m)
case "$arch" in x86_64) oci_arch=amd64 ;; aarch64) oci_arch=arm64 ;; *) die "unsupported architecture $arch" ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp"
chmod 1777 "$root/tmp"
install -m 0755 "$binary" "$root/usr/local/bin/mcp-runtime"

# Every library the dynamic linker resolves, at the path it resolves it to, plus the loader.
# A library ldd cannot find would fail at run time, so it fails the build instead.
if ldd "$binary" | grep -q 'not found'; then
  die "ldd cannot resolve every library of $binary: $(ldd "$binary" | grep 'not found')"
fi
ldd "$binary" | awk '/=> \//{print $3} /^\t\//{print $1}' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# The loader is also reached through /lib64 on x86_64; keep the path the binary names.
interpreter=$(python3 - "$binary" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read(1 << 16)
start = data.find(b"/lib")
print(data[start:data.find(b"\0", start)].decode() if start >= 0 else "")
EOF
)
[ -n "$interpreter" ] && [ -e "$root$interpreter" ] || die "the ELF interpreter $interpreter was not copied"

ca=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca" ] || die "$ca is missing (install the ca-certificates package)"
cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
mkdir -p "$root/home/nonroot"

# One layer, reproducible: sorted names, fixed times, every entry owned by root (the user needs
# to write only /tmp, which is world-writable).
layer=$work/layer.tar
(cd "$root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort >"$work/files")
tar --create --file "$layer" --directory "$root" --no-recursion --files-from "$work/files" \
  --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
diff_id=$(sha256sum "$layer" | awk '{print $1}')
gzip -n <"$layer" >"$layer.gz"
layer_digest=$(sha256sum "$layer.gz" | awk '{print $1}')
layer_size=$(stat -c %s "$layer.gz")

out=$work/archive
mkdir -p "$out/blobs/sha256"
mv "$layer.gz" "$out/blobs/sha256/$layer_digest"
python3 - "$out" "$tag" "$version" "$oci_arch" "$diff_id" "$layer_digest" "$layer_size" <<'EOF'
import hashlib, json, os, sys

out, tag, version, arch, diff_id, layer_digest, layer_size = sys.argv[1:]

def blob(document):
    data = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return digest, len(data)

config = {
    "architecture": arch,
    "os": "linux",
    "created": "1970-01-01T00:00:00Z",
    "config": {
        "User": "65532:65532",
        "Entrypoint": ["/usr/local/bin/mcp-runtime"],
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
        "WorkingDir": "/home/nonroot",
        "Labels": {
            "org.opencontainers.image.title": "mcp-runtime",
            "org.opencontainers.image.version": version,
            "org.opencontainers.image.licenses": "Apache-2.0",
        },
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "scripts/build-image.sh"}],
}
config_digest, config_size = blob(config)
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + config_digest, "size": config_size},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": "sha256:" + layer_digest, "size": int(layer_size)}],
}
manifest_digest, manifest_size = blob(manifest)
index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + manifest_digest, "size": manifest_size,
        "annotations": {"io.containerd.image.name": tag,
                        "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[1]},
    }],
}
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f, separators=(",", ":"), sort_keys=True)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
# The Docker archive view of the same blobs (what `docker load` of older engines reads).
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump([{"Config": "blobs/sha256/" + config_digest, "RepoTags": [tag],
                "Layers": ["blobs/sha256/" + layer_digest]}], f, separators=(",", ":"))
EOF

mkdir -p "$(dirname "$output")"
(cd "$out" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort >"$work/archive-files")
tar --create --file "$output.tmp" --directory "$out" --no-recursion --files-from "$work/archive-files" \
  --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
mv "$output.tmp" "$output"
echo "build-image: $tag -> $output ($(du -h "$output" | awk '{print $1}'), layer $(numfmt --to=iec "$layer_size") compressed)" >&2
echo "$output"
