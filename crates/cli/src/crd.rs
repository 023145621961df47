//! `mcp-runtime crd`: print or write the CustomResourceDefinitions.

use anyhow::{Context, Result};
use mcp_runtime_api::crd;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CrdArgs {
    /// Write one file per CRD (`<group>_<plural>.yaml`) into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Print the API reference (Markdown, as in docs/api.md) instead of the CRDs.
    #[arg(long, conflicts_with = "output_dir")]
    reference: bool,
}

pub fn run(args: &CrdArgs) -> Result<ExitCode> {
    if args.reference {
        print!("{}", mcp_runtime_api::reference::markdown());
        return Ok(ExitCode::SUCCESS);
    }
    match &args.output_dir {
        None => print!("{}", crd::all_yaml()),
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for definition in crd::all() {
                let path = dir.join(crd::file_name(&definition));
                std::fs::write(&path, crd::to_yaml(&definition))
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
