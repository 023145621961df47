//! The offline image build (`scripts/build-image.sh`): the archive is a well-formed OCI image
//! layout and Docker archive whose digests all check out, and its root filesystem is
//! self-contained: the binary runs inside it (chroot, as the image's non-root user) with nothing
//! from the host.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn run(command: &mut Command) -> std::process::Output {
    let output = command.output().expect("run");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

/// Reads a blob named by a descriptor and checks that its digest and size are what it says.
fn blob(layout: &Path, descriptor: &serde_json::Value) -> Vec<u8> {
    let digest = descriptor["digest"].as_str().expect("digest");
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    let bytes = std::fs::read(layout.join("blobs/sha256").join(hex)).expect("blob");
    assert_eq!(sha256(&bytes), hex, "blob content matches its digest");
    assert_eq!(
        descriptor["size"].as_u64(),
        Some(bytes.len() as u64),
        "size of {digest}"
    );
    bytes
}

#[test]
fn the_image_archive_is_well_formed_and_its_root_filesystem_is_self_contained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("image.tar");
    run(Command::new("bash")
        .arg(repo().join("scripts/build-image.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_mcp-runtime")])
        .args(["--tag", "example.test/mcp-runtime:t1"])
        .arg("--output")
        .arg(&archive));

    let layout = dir.path().join("layout");
    std::fs::create_dir(&layout).expect("mkdir");
    run(Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&layout));
    assert_eq!(
        json(&layout.join("oci-layout"))["imageLayoutVersion"],
        "1.0.0"
    );
    let index = json(&layout.join("index.json"));
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["annotations"]["io.containerd.image.name"],
        "example.test/mcp-runtime:t1"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&blob(&layout, entry)).expect("manifest");
    let config: serde_json::Value =
        serde_json::from_slice(&blob(&layout, &manifest["config"])).expect("config");
    assert_eq!(config["config"]["User"], "65532:65532", "runs as non-root");
    assert_eq!(
        config["config"]["Entrypoint"][0],
        "/usr/local/bin/mcp-runtime"
    );
    let layer = blob(&layout, &manifest["layers"][0]);
    let layer_path = dir.path().join("layer.tar.gz");
    std::fs::write(&layer_path, &layer).expect("write layer");
    let uncompressed = run(Command::new("gzip").arg("-dc").arg(&layer_path)).stdout;
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        format!("sha256:{}", sha256(&uncompressed)),
        "the config's diff_id is the uncompressed layer"
    );
    // The Docker archive view names the same blobs.
    let docker = json(&layout.join("manifest.json"));
    assert_eq!(docker[0]["RepoTags"][0], "example.test/mcp-runtime:t1");
    assert_eq!(
        docker[0]["Config"],
        format!(
            "blobs/sha256/{}",
            manifest["config"]["digest"]
                .as_str()
                .and_then(|d| d.strip_prefix("sha256:"))
                .expect("digest")
        )
    );

    let root = dir.path().join("rootfs");
    std::fs::create_dir(&root).expect("mkdir");
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&layer_path)
        .arg("-C")
        .arg(&root));
    for path in [
        "usr/local/bin/mcp-runtime",
        "etc/ssl/certs/ca-certificates.crt",
        "etc/passwd",
        "etc/group",
        "tmp",
    ] {
        assert!(root.join(path).exists(), "{path} is in the image");
    }
    assert!(
        std::fs::read_to_string(root.join("etc/passwd"))
            .expect("passwd")
            .contains("nonroot:x:65532:65532"),
        "the non-root user exists"
    );

    // Self-contained: the binary runs in the image's root filesystem alone.
    let uid = run(Command::new("id").arg("-u")).stdout;
    if String::from_utf8_lossy(&uid).trim() != "0" {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chroot needs root, and CI runs as root"
        );
        eprintln!("SKIPPED (not root): running the binary inside the image needs chroot");
        return;
    }
    let in_image = |args: &[&str]| {
        // The image's environment, not the host's (and chroot found before the PATH is gone).
        run(Command::new("/usr/sbin/chroot")
            .arg("--userspec=65532:65532")
            .arg(&root)
            .arg("/usr/local/bin/mcp-runtime")
            .args(args)
            .env_clear())
        .stdout
    };
    let version = String::from_utf8(in_image(&["--version"])).expect("utf-8");
    assert!(version.starts_with("mcp-runtime "), "{version}");
    let crds = String::from_utf8(in_image(&["crd"])).expect("utf-8");
    assert_eq!(
        crds.matches("kind: CustomResourceDefinition").count(),
        3,
        "the three CRDs, printed inside the image"
    );
}
