//! Where the real MCP peers live for the tests, and small process helpers.
//!
//! `.ci/run` installs the peers (pinned) under `target/peers`: the official Python SDK in
//! `target/peers/venv`, the Node servers and clients in `target/peers/node`. A test that needs a
//! peer that is missing fails with the install step; it never skips silently.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python interpreter with `mcp==2.3.0` (or `MCP_RUNTIME_TEST_PYTHON`).
pub fn python() -> PathBuf {
    if let Ok(python) = std::env::var("MCP_RUNTIME_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = workspace().join("target/peers/venv/bin/python");
    assert!(
        venv.exists(),
        "the Python MCP SDK (mcp==2.3.0) is missing from target/peers/venv: run `bash .ci/run`, \
         or `python3 -m venv target/peers/venv && target/peers/venv/bin/pip install mcp==2.3.0`, \
         or set MCP_RUNTIME_TEST_PYTHON"
    );
    venv
}

/// Whether [`python`] would find the Python SDK (without failing when it would not).
pub fn python_present() -> bool {
    std::env::var_os("MCP_RUNTIME_TEST_PYTHON").is_some()
        || workspace().join("target/peers/venv/bin/python").exists()
}

/// Whether [`node_modules`] would find the Node peers and node (without failing when it would
/// not).
pub fn node_peers_present() -> bool {
    let dir = workspace().join("target/peers/node/node_modules");
    dir.join("@modelcontextprotocol/server-everything/dist/index.js")
        .exists()
        && dir.join(".bin/mcp-inspector").exists()
        && std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// `target/peers/node/node_modules`, with server-everything and the Inspector CLI.
pub fn node_modules() -> PathBuf {
    let dir = workspace().join("target/peers/node/node_modules");
    assert!(
        dir.join("@modelcontextprotocol/server-everything/dist/index.js")
            .exists()
            && dir.join(".bin/mcp-inspector").exists(),
        "the Node MCP peers are missing from target/peers/node: run `bash .ci/run` (it runs \
         `npm install --prefix target/peers/node @modelcontextprotocol/server-everything@… \
         @modelcontextprotocol/inspector@0.15.0`)"
    );
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is missing: run `bash .ci/run` (it installs nodejs and the Node MCP peers)"
    );
    dir
}

/// A free port on 127.0.0.1 (bound and released; the caller binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// A child process killed (and reaped) when dropped, so a failing test leaves nothing behind.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls until something accepts on `127.0.0.1:port`; panics if `child` exits first or nothing
/// listens within 30 s.
pub fn wait_listening(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The official Python SDK's server from `tests/peers/python/server.py` (tools `add`,
/// `countdown` and `secret_admin`, which writes `marker` when it runs), listening on the
/// returned loopback port.
pub fn python_server(marker: &Path) -> (KillOnDrop, u16) {
    let port = free_port();
    let mut child = Command::new(python())
        .arg(workspace().join("tests/peers/python/server.py"))
        .arg(port.to_string())
        .arg(marker)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the Python MCP server");
    wait_listening(port, "the Python MCP server", &mut child);
    (KillOnDrop(child), port)
}

/// panva's `oidc-provider` (a real OpenID provider, in `target/peers/node`) run from
/// `tests/peers/node/oidc-provider.mjs` on `127.0.0.1:port`, issuer `http://127.0.0.1:<port>`,
/// signing with the keys in `keys` (a JWK set file, created with one new key when missing) and
/// `alg` (`RS256` or `ES256`). Clients: `agent-claude`/`claude-secret` and
/// `short-lived`/`short-secret` (1 s tokens).
pub fn oidc_provider(port: u16, keys: &Path, alg: &str) -> KillOnDrop {
    let modules = workspace().join("target/peers/node/node_modules");
    assert!(
        modules.join("oidc-provider/package.json").exists(),
        "oidc-provider is missing from target/peers/node: run `bash .ci/run` (it runs \
         `npm install --prefix target/peers/node … oidc-provider@9.13.3`)"
    );
    let mut child = Command::new("node")
        .arg(workspace().join("tests/peers/node/oidc-provider.mjs"))
        .env("OIDC_MODULES", &modules)
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_KEYS", keys)
        .env("OIDC_ALG", alg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start oidc-provider (node)");
    wait_listening(port, "oidc-provider", &mut child);
    KillOnDrop(child)
}
