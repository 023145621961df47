//! `mcp-runtime import`: convert kubernetes-sigs mcp-lifecycle-operator manifests.

use anyhow::{Context, Result};
use mcp_runtime_api::import::import_lifecycle_server;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files holding `mcp.x-k8s.io` MCPServer manifests (multi-document YAML or JSON).
    #[arg(short = 'f', long = "filename", required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Prints the converted servers as YAML on stdout; warnings and errors, naming the source file,
/// document and field, go to stderr. Exits 1 when any document could not be converted.
pub fn run(args: &ImportArgs) -> Result<ExitCode> {
    let mut failed = 0;
    for file in &args.files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        for (index, document) in serde_norway::Deserializer::from_str(&text).enumerate() {
            let at = format!("{} (document {})", file.display(), index + 1);
            let value = match Value::deserialize(document) {
                Ok(Value::Null) => continue,
                Ok(value) => value,
                Err(error) => {
                    eprintln!("error {at}: not valid YAML: {error}");
                    failed += 1;
                    break;
                }
            };
            match import_lifecycle_server(&value) {
                Ok(imported) => {
                    for warning in &imported.warnings {
                        eprintln!("warning {at}: {warning}");
                    }
                    print!("---\n{}", serde_norway::to_string(&imported.object)?);
                }
                Err(errors) => {
                    for error in errors {
                        eprintln!("error {at}: {error}");
                    }
                    failed += 1;
                }
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
