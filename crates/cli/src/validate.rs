//! `mcp-runtime validate`: check manifests the way the cluster would, without a cluster.

use anyhow::{Context, Result};
use mcp_runtime_api::manifest::{LoadResult, load_dir, parse_manifests};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Manifest files or directories (directories are read like `kubectl apply -f DIR`).
    #[arg(short = 'f', long = "filename", required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let mut all = LoadResult::default();
    for path in &args.paths {
        let result = read(path)?;
        all.loaded.extend(result.loaded);
        all.errors.extend(result.errors);
    }
    for loaded in &all.loaded {
        println!(
            "ok    {} {}/{} ({})",
            loaded.manifest.kind(),
            loaded.manifest.namespace(),
            loaded.manifest.name(),
            loaded.source
        );
    }
    for error in &all.errors {
        eprintln!("error {error}");
    }
    if all.errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} valid, {} refused", all.loaded.len(), all.errors.len());
        Ok(ExitCode::from(1))
    }
}

fn read(path: &Path) -> Result<LoadResult> {
    if path.is_dir() {
        load_dir(path).with_context(|| format!("reading {}", path.display()))
    } else {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(parse_manifests(&text, Some(path)))
    }
}
