//! Golden files of `--help` for every command of the tree, and of the shell completion scripts:
//! a change to what a user reads is a reviewed change of `tests/golden/`.
//!
//! After an intended change: `MCP_RUNTIME_UPDATE_GOLDEN=1 cargo nextest run -p mcp-runtime --test golden_help`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-runtime");

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn run(args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(args)
        // Help shows the value of any variable an option reads (`[env: PORT=…]`): none is set.
        .env_clear()
        // Help is wrapped to the terminal; a fixed width keeps it the same everywhere.
        .env("COLUMNS", "100")
        .output()
        .expect("run mcp-runtime");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The subcommands listed under `Commands:` in a help text (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command path's help, by golden file name.
fn every_help() -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = run(&args);
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
        let name = std::iter::once("mcp-runtime")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        found.insert(format!("help/{name}.txt"), help);
    }
    for shell in ["bash", "zsh", "fish"] {
        found.insert(
            format!("completion/mcp-runtime.{shell}"),
            run(&["completion", shell]),
        );
    }
    found
}

#[test]
fn help_and_completion_match_their_golden_files() {
    let expected = every_help();
    let dir = golden_dir();
    if std::env::var_os("MCP_RUNTIME_UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in &expected {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(&path, text).expect("write golden");
        }
        return;
    }
    let mut problems = Vec::new();
    for (name, text) in &expected {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(golden) if &golden == text => {}
            Ok(_) => problems.push(format!("{name} differs")),
            Err(_) => problems.push(format!("{name} is missing")),
        }
    }
    for sub in ["help", "completion"] {
        for entry in std::fs::read_dir(dir.join(sub))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = format!("{sub}/{}", entry.file_name().to_string_lossy());
            if !expected.contains_key(&name) {
                problems.push(format!("{name} is stale (no such command any more)"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(after an intended change: MCP_RUNTIME_UPDATE_GOLDEN=1 cargo nextest run -p mcp-runtime --test golden_help, and review the diff)",
        problems.join("\n")
    );
    assert!(
        expected.len() > 40,
        "only {} help texts found",
        expected.len()
    );
}
