//! `mcp-runtime install --to PATH`: copies this executable, e.g. from the runtime image into
//! the emptyDir a stdio server's pod shares with its server container (see the operator's
//! `install-mcp-runtime` init container).

use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Copy this `mcp-runtime` executable to another place (mode 0755, atomically).
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Destination: an existing directory (the binary becomes DIR/mcp-runtime) or a file path.
    #[arg(long, value_name = "PATH")]
    to: PathBuf,
}

pub fn run(args: &InstallArgs) -> Result<ExitCode> {
    let source = std::env::current_exe().context("locating the running executable")?;
    let destination = if args.to.is_dir() {
        args.to.join("mcp-runtime")
    } else {
        args.to.clone()
    };
    install(&source, &destination)?;
    eprintln!("installed {}", destination.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes a temporary file next to `destination`, then renames it over: readers see either the
/// old file or the complete new one.
fn install(source: &Path, destination: &Path) -> Result<()> {
    let directory = destination
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = destination
        .file_name()
        .with_context(|| format!("{} is not a file path", destination.display()))?;
    let temporary = directory.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> Result<()> {
        let mut input =
            std::fs::File::open(source).with_context(|| format!("reading {}", source.display()))?;
        let mut output = std::fs::File::create(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        std::io::copy(&mut input, &mut output)
            .with_context(|| format!("writing {}", temporary.display()))?;
        output.flush()?;
        output
            .set_permissions(std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("setting the mode of {}", temporary.display()))?;
        output
            .sync_all()
            .with_context(|| format!("syncing {}", temporary.display()))?;
        std::fs::rename(&temporary, destination)
            .with_context(|| format!("renaming to {}", destination.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
