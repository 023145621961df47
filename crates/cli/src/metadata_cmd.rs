//! `mcp-runtime server init` and `server generate`: the `.mcp/` metadata files of the Go
//! mcp-runtime (format in `mcp_runtime_api::metadata`), and the MCPServer manifests made from them.

use anyhow::{Context, Result, bail};
use mcp_runtime_api::metadata::{
    self, DEFAULT_METADATA_DIR, Generated, InitOptions, ToolSpec, generate,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The server's name (also its file name: .mcp/NAME.yaml).
    name: String,
    /// Directory of the metadata files.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_METADATA_DIR)]
    metadata_dir: PathBuf,
    /// Namespace written into the entry (default: left out, so `generate` decides).
    #[arg(short, long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Container image (default: the server's name).
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// Image tag.
    #[arg(long, value_name = "TAG", default_value = "latest")]
    tag: String,
    /// Container port of the MCP server.
    #[arg(long, value_name = "PORT", default_value_t = 8088)]
    port: i32,
    /// A tool the server offers (trust low, side effect read unless --tool-spec says otherwise).
    #[arg(long = "tool", value_name = "NAME")]
    tools: Vec<String>,
    /// A tool with its required trust and side effect, such as delete_note:high:destructive.
    #[arg(long = "tool-spec", value_name = "NAME:TRUST:SIDE_EFFECT")]
    tool_specs: Vec<ToolSpec>,
    /// Risk level written on every tool (low, medium, high).
    #[arg(long, value_name = "RISK")]
    tool_risk: Option<String>,
    /// Policy mode: allow-list (enforce) or observe.
    #[arg(long, value_name = "MODE", default_value = "allow-list")]
    policy_mode: String,
    /// Decision when no grant matches: deny or allow.
    #[arg(long, value_name = "DECISION", default_value = "deny")]
    default_decision: String,
    /// Require an MCPAgentSession on every tool call.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    session_required: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Directory of the metadata files (every *.yaml / *.yml in it).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_METADATA_DIR)]
    metadata_dir: PathBuf,
    /// One metadata file instead of the directory.
    #[arg(long, value_name = "FILE")]
    metadata_file: Option<PathBuf>,
    /// Directory the manifests are written to (one NAME.yaml per server), or - for standard
    /// output.
    #[arg(long, value_name = "DIR", default_value = "manifests")]
    output: PathBuf,
    /// Namespace of entries that name none.
    #[arg(short, long, value_name = "NAMESPACE", default_value = "mcp-servers")]
    namespace: String,
}

pub fn init(args: &InitArgs) -> Result<ExitCode> {
    let options = InitOptions {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        image: args.image.clone(),
        image_tag: Some(args.tag.clone()),
        port: Some(args.port),
        tools: args.tools.clone(),
        tool_specs: args.tool_specs.clone(),
        tool_risk: args.tool_risk.clone(),
        policy_mode: args.policy_mode.clone(),
        default_decision: args.default_decision.clone(),
        session_required: args.session_required,
    };
    let document = metadata::init_document(&options);
    // What init writes must be what generate accepts: check before touching the disk.
    if let Err(errors) = generate(&document, "mcp-servers") {
        for error in &errors {
            eprintln!("error: {error}");
        }
        bail!("nothing was written: fix the flags named above");
    }
    let path = args.metadata_dir.join(format!("{}.yaml", args.name));
    if path.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    std::fs::create_dir_all(&args.metadata_dir)
        .with_context(|| format!("creating {}", args.metadata_dir.display()))?;
    let text = format!(
        "# MCP server metadata (`mcp-runtime server generate` turns it into an MCPServer manifest).\n\
         # Every key besides name, namespace and route is an MCPServer spec field.\n{}",
        serde_norway::to_string(&document)?
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

pub fn generate_manifests(args: &GenerateArgs) -> Result<ExitCode> {
    let files = match &args.metadata_file {
        Some(file) => vec![file.clone()],
        None => metadata_files(&args.metadata_dir)?,
    };
    let mut servers: Vec<Generated> = Vec::new();
    let mut failed = 0;
    for file in &files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let document: Value = serde_norway::from_str(&text)
            .with_context(|| format!("parsing {} as YAML", file.display()))?;
        match generate(&document, &args.namespace) {
            Ok(generated) => servers.extend(generated),
            Err(errors) => {
                failed += errors.len();
                for error in errors {
                    eprintln!("error {}: {error}", file.display());
                }
            }
        }
    }
    if failed > 0 {
        bail!("{failed} problem(s); nothing was written");
    }
    if args.output.as_os_str() == "-" {
        for server in &servers {
            print!("---\n{}", serde_norway::to_string(&server.object)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    for server in &servers {
        let path = args.output.join(format!("{}.yaml", server.name));
        std::fs::write(&path, serde_norway::to_string(&server.object)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The metadata files of `dir`, in name order.
fn metadata_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "reading {} (create one with `mcp-runtime server init NAME`, or pass --metadata-file)",
            dir.display()
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.is_file()
                && matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "{} has no metadata files (*.yaml); `mcp-runtime server init NAME` writes one",
            dir.display()
        );
    }
    Ok(files)
}
