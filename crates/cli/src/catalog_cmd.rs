//! `mcp-runtime catalog tools|tool NAME`: the tools the MCPServers of a namespace (or every
//! namespace) declare, filtered, and their drift from what the servers list live. The rows come
//! from [`crate::catalog`] (pure); this module reads the servers and prints.

use crate::catalog::{Catalog, Drift, Effect, Filter, Level, Row, Select, catalog};
use crate::cluster_verbs::block_on;
use crate::server_cmd::{Output, Scope};
use anyhow::{Result, bail};
use mcp_runtime_admin::objects;
use mcp_runtime_api::MCPServer;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// List the tools the MCPServers declare (spec.tools), one row per server and tool: side
    /// effect, required trust, risk, team and description. With --drift, compare the declared
    /// names with the tools each server lists live (status.tools, from the operator's handshake).
    Tools(ToolsArgs),
    /// Show one tool in detail: every server that declares it, and every server that lists it
    /// live without declaring it.
    Tool(ToolArgs),
}

#[derive(Debug, clap::Args)]
pub struct ToolsArgs {
    #[command(flatten)]
    selection: Selection,
}

#[derive(Debug, clap::Args)]
pub struct ToolArgs {
    /// The tool's name.
    name: String,
    #[command(flatten)]
    selection: Selection,
}

/// Which servers and tools.
#[derive(Debug, clap::Args)]
pub struct Selection {
    #[command(flatten)]
    scope: Scope,
    /// Every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Only the MCPServer of this name.
    #[arg(long, value_name = "NAME")]
    server: Option<String>,
    /// Only servers of this team (spec.teamID).
    #[arg(long, value_name = "ID")]
    team: Option<String>,
    /// Only tools with this side effect.
    #[arg(long, value_enum, value_name = "EFFECT")]
    side_effect: Option<Effect>,
    /// Only tools that require this trust (requiredTrust; unset is low).
    #[arg(long, value_enum, value_name = "LEVEL")]
    trust: Option<Level>,
    /// Only tools that declare this risk (riskLevel).
    #[arg(long, value_enum, value_name = "LEVEL")]
    risk: Option<Level>,
    /// Only tools whose name, description or a label (key, value or key=value) contains TEXT,
    /// ignoring case.
    #[arg(short, long, value_name = "TEXT")]
    query: Option<String>,
    /// Compare the declared tools with the live ones: declared (declared and live), ungoverned
    /// (live, not declared: the policy does not know it), missing (declared, not live), pinned
    /// (pinned with spec.tools[].digest and listed live with another definition digest: tool
    /// drift; -o json shows both digests). Servers whose live inventory is unknown are named,
    /// never counted.
    #[arg(long, value_enum, value_name = "KIND")]
    drift: Option<Drift>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    output: Output,
}

impl Selection {
    fn filter(&self, name: Option<&str>, without_drift: Select) -> Filter {
        Filter {
            server: self.server.clone(),
            team: self.team.clone(),
            name: name.map(str::to_owned),
            side_effect: self.side_effect,
            trust: self.trust,
            risk: self.risk,
            query: self.query.clone(),
            select: self.drift.map_or(without_drift, Select::Drift),
        }
    }

    fn namespace(&self) -> Option<&str> {
        (!self.all_namespaces).then_some(self.scope.namespace.as_str())
    }

    /// Whether a filter other than the namespace is set.
    fn filtered(&self) -> bool {
        self.server.is_some()
            || self.team.is_some()
            || self.side_effect.is_some()
            || self.trust.is_some()
            || self.risk.is_some()
            || self.query.is_some()
            || self.drift.is_some()
    }

    /// "in namespace X" or "in any namespace".
    fn place(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("in namespace {ns}"),
            None => "in any namespace".to_owned(),
        }
    }
}

pub fn run(command: &CatalogCommand) -> Result<ExitCode> {
    match command {
        CatalogCommand::Tools(args) => tools(&args.selection),
        CatalogCommand::Tool(args) => tool(&args.selection, &args.name),
    }
}

fn servers(selection: &Selection) -> Result<Vec<MCPServer>> {
    block_on(async {
        let client = mcp_runtime_admin::connect(&selection.scope.cluster.target())
            .await?
            .0;
        Ok(objects::list::<MCPServer>(&client, selection.namespace()).await?)
    })
}

fn tools(selection: &Selection) -> Result<ExitCode> {
    let servers = servers(selection)?;
    let found = catalog(&servers, &selection.filter(None, Select::Declared));
    match selection.output {
        Output::Table => {
            if servers.is_empty() {
                eprintln!("No MCPServers {}.", selection.place());
            } else if found.tools.is_empty() {
                eprintln!("No tools match.");
            } else {
                print!("{}", table(&found.tools, selection.all_namespaces));
            }
            if selection.drift.is_some() && !found.live_unknown.is_empty() {
                eprintln!("{}", unknown_note(&found));
            }
        }
        other => print_document(&found, other)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn tool(selection: &Selection, name: &str) -> Result<ExitCode> {
    let servers = servers(selection)?;
    let found = catalog(
        &servers,
        &selection.filter(Some(name), Select::DeclaredAndUngoverned),
    );
    if found.tools.is_empty() {
        let filtered = if selection.filtered() {
            " that matches the filters"
        } else {
            ""
        };
        let unknown = if found.live_unknown.is_empty() {
            String::new()
        } else {
            format!("; live tools unknown for {}", found.live_unknown.join(", "))
        };
        bail!(
            "no MCPServer {} declares or lists a tool {name:?}{filtered}{unknown} (list them with `mcp-runtime catalog tools -A`)",
            selection.place()
        );
    }
    match selection.output {
        Output::Table => print!("{}", detail(&found.tools)),
        other => print_document(&found, other)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_document(found: &Catalog, output: Output) -> Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(found)?),
        Output::Yaml | Output::Table => print!("{}", serde_norway::to_string(found)?),
    }
    Ok(())
}

fn unknown_note(found: &Catalog) -> String {
    format!(
        "note: live tools unknown for {} (no status.tools: not handshaken yet, guarded, or behind a gateway); not part of --drift",
        found.live_unknown.join(", ")
    )
}

/// Longest description shown in the table.
const DESCRIPTION_WIDTH: usize = 50;

fn dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

fn truncate(text: &str, width: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= width && line.len() == text.trim_end().len() {
        line.to_owned()
    } else {
        let kept: String = line.chars().take(width - 1).collect();
        format!("{}…", kept.trim_end())
    }
}

/// [NAMESPACE] SERVER TOOL SIDE EFFECT TRUST RISK TEAM DESCRIPTION, columns as wide as their
/// widest cell.
fn table(rows: &[Row], with_namespace: bool) -> String {
    let mut header = vec![
        "SERVER",
        "TOOL",
        "SIDE EFFECT",
        "TRUST",
        "RISK",
        "TEAM",
        "DESCRIPTION",
    ];
    if with_namespace {
        header.insert(0, "NAMESPACE");
    }
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for row in rows {
        let mut line = vec![
            row.server.clone(),
            row.name.clone(),
            // An undeclared tool has no declared metadata: say why instead.
            if row.declared {
                dash(row.side_effect)
            } else {
                "(undeclared)".to_owned()
            },
            dash(row.required_trust),
            dash(row.risk_level),
            dash(row.team.as_deref()),
            row.description
                .as_deref()
                .map(|d| truncate(d, DESCRIPTION_WIDTH))
                .unwrap_or_default(),
        ];
        if with_namespace {
            line.insert(0, row.namespace.clone());
        }
        cells.push(line);
    }
    let columns = cells[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in cells {
        let mut text = String::new();
        for (c, cell) in line.iter().enumerate() {
            if c + 1 == columns {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// One block per server: everything the catalog knows about the tool there.
fn detail(rows: &[Row]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut field = |label: &str, value: &str| {
            let _ = writeln!(out, "{:<14}{value}", format!("{label}:"));
        };
        field("Tool", &row.name);
        field("Server", &format!("{}/{}", row.namespace, row.server));
        field("Team", &dash(row.team.as_deref()));
        if row.declared {
            field("Side effect", &dash(row.side_effect));
            field("Trust", &dash(row.required_trust));
            field("Risk", &dash(row.risk_level));
            if !row.labels.is_empty() {
                let labels: Vec<String> =
                    row.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                field("Labels", &labels.join(", "));
            }
        } else {
            field(
                "Declared",
                "no: the server lists it, spec.tools does not declare it, so the policy does not know it (ungoverned)",
            );
        }
        field(
            "Live",
            match row.live {
                Some(true) => "yes (listed by the server)",
                Some(false) => "no: declared, but the server does not list it (missing)",
                None => {
                    "unknown (no status.tools: not handshaken yet, guarded, or behind a gateway)"
                }
            },
        );
        if let Some(description) = &row.description {
            field("Description", description);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_or_multi_line_descriptions_are_cut_in_the_table() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly 10", 10), "exactly 10");
        assert_eq!(truncate("a bit longer than ten", 10), "a bit lon…");
        assert_eq!(truncate("first\nsecond", 10), "first…");
    }
}
