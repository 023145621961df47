//! The README's quickstart, followed as a newcomer copies it: every command of its `sh` blocks,
//! in order, then the Sentinel UI link it gives.
//!
//! What a test cannot do verbatim is replaced by its pinned equivalent, after checking the pin:
//! `cargo run -p mcp-runtime --` is the binary this test was built with (same sources), the
//! virtualenv is the peers' one with the `mcp` version the README installs, and `npx` runs the
//! Inspector version the README names from the peers' node_modules (no network in tests). The port
//! is a free one instead of 8080, given as `MCP_RUNTIME_UP_PORT` and substituted in the URLs.
//! Everything runs in a scratch directory holding `examples/` and `target/debug/mcp-runtime`,
//! so the state `up` writes stays out of the checkout.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{get_following_redirects, http, python, wait_for, workspace};

/// One command of a fenced block, with the output its `# -> …` comment promises, if any.
#[derive(Debug)]
struct Step {
    command: String,
    expected: Option<String>,
}

/// The `sh` blocks of the section titled `title`, as steps (comments and blank lines dropped,
/// `\` continuations joined).
fn quickstart_steps(readme: &str, title: &str) -> (Vec<Step>, String) {
    let start = readme
        .find(&format!("## {title}"))
        .unwrap_or_else(|| panic!("README section {title:?}"));
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let line = line.trim();
        if let Some(promise) = line.strip_prefix("# -> ") {
            let promise = promise.split("  (").next().unwrap_or(promise).trim();
            steps
                .last_mut()
                .expect("a `# ->` comment follows a command")
                .expected = Some(promise.to_owned());
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A trailing comment explains the command; it is not part of it.
        let line = line.split("  #").next().unwrap_or(line).trim_end();
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                steps.push(Step {
                    command: std::mem::take(&mut pending),
                    expected: None,
                });
            }
        }
    }
    (steps, section.to_owned())
}

/// The version pinned after `name@` or `name==` in `command`.
fn pinned<'a>(command: &'a str, name: &str) -> &'a str {
    let at = command
        .find(name)
        .unwrap_or_else(|| panic!("{name} in {command}"));
    command[at + name.len()..]
        .trim_start_matches(['@', '='])
        .split_whitespace()
        .next()
        .expect("a version")
}

#[test]
fn the_readme_quickstart_works_by_copy_and_paste() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let (steps, section) =
        quickstart_steps(&readme, "Quickstart: the whole platform on one machine");
    let home = tempfile::tempdir().expect("scratch directory");
    std::os::unix::fs::symlink(workspace().join("examples"), home.path().join("examples"))
        .expect("examples");
    std::fs::create_dir_all(home.path().join("target/debug")).expect("target/debug");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_mcp-runtime"),
        home.path().join("target/debug/mcp-runtime"),
    )
    .expect("the binary");
    let port = mcp_runtime_peers::free_port().to_string();
    let address = format!("127.0.0.1:{port}");

    let mut steps = steps.into_iter();
    // 1. Run the product.
    let first = steps.next().expect("the quickstart's first command");
    let up_args = first
        .command
        .strip_prefix("cargo run -p mcp-runtime -- ")
        .unwrap_or_else(|| panic!("the quickstart starts with cargo run: {}", first.command));
    let up = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .args(up_args.split_whitespace())
        .current_dir(home.path())
        .env("MCP_RUNTIME_UP_PORT", &port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start up");
    let _up = mcp_runtime_peers::KillOnDrop(up);
    wait_for(
        "the quickstart's servers to be Ready",
        Duration::from_secs(60),
        || {
            std::net::TcpStream::connect(&address).ok()?;
            let (code, body) = http(&address, "GET", "/_up/status", &[], "");
            let status: serde_json::Value = serde_json::from_str(&body).ok()?;
            let servers = status["servers"].as_array()?;
            (code == 200 && !servers.is_empty() && servers.iter().all(|s| s["phase"] == "Ready"))
                .then_some(())
        },
    );

    // 2. Every other command, in order.
    let mut ran = 0;
    for step in steps {
        let mut command = step.command.replace("127.0.0.1:8080", &address);
        if command.starts_with("python3 -m venv .venv") {
            let python = python();
            let version = Command::new(&python)
                .args([
                    "-c",
                    "import importlib.metadata as m; print(m.version('mcp'))",
                ])
                .output()
                .expect("the peers' Python");
            assert_eq!(
                String::from_utf8_lossy(&version.stdout).trim(),
                pinned(&command, "mcp"),
                "the README installs another mcp version than the tests use"
            );
            let venv = python.parent().and_then(Path::parent).expect("venv");
            std::os::unix::fs::symlink(venv, home.path().join(".venv")).expect(".venv");
            continue;
        }
        const INSPECTOR: &str = "npx -y @modelcontextprotocol/inspector";
        if command.starts_with(INSPECTOR) {
            let modules = mcp_runtime_peers::node_modules();
            let package: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(
                    modules.join("@modelcontextprotocol/inspector/package.json"),
                )
                .expect("the Inspector's package.json"),
            )
            .expect("package.json");
            let version = pinned(&command, "@modelcontextprotocol/inspector").to_owned();
            assert_eq!(package["version"], version.as_str(), "Inspector version");
            let rest = command[INSPECTOR.len() + 1 + version.len()..].to_owned();
            command = format!("{}{rest}", modules.join(".bin/mcp-inspector").display());
        }
        let output = Command::new("bash")
            .args(["-c", &command])
            .current_dir(home.path())
            .env("MCP_RUNTIME_UP_PORT", &port)
            .output()
            .expect("bash");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        match &step.expected {
            Some(expected) => assert!(
                printed.contains(expected.as_str()),
                "`{}` printed\n{printed}\nnot the promised {expected:?}",
                step.command
            ),
            None => assert!(
                output.status.success(),
                "`{}` failed ({}):\n{printed}",
                step.command,
                output.status
            ),
        }
        ran += 1;
    }
    assert!(ran >= 6, "only {ran} commands followed the first");

    // 3. The UI link the quickstart gives.
    let link = section
        .split('<')
        .filter_map(|part| part.split_once('>').map(|(url, _)| url))
        .find(|url| url.contains("/sentinel"))
        .expect("a Sentinel UI link");
    let path = link
        .strip_prefix("http://127.0.0.1:8080")
        .expect("a link to the local port");
    let (code, landed) = get_following_redirects(&address, path);
    assert_eq!(code, 200, "{link}");
    let (_, page) = http(&address, "GET", &landed, &[], "");
    assert!(page.to_lowercase().contains("<html"), "{page}");
    // The calls made above are in it.
    let (_, events) = http(
        &address,
        "GET",
        "/sentinel/api/v1/events?server=notes",
        &[],
        "",
    );
    let events: serde_json::Value = serde_json::from_str(&events).expect("events");
    assert!(
        events["events"].as_array().is_some_and(|e| e.len() >= 4),
        "{events}"
    );
}
