//! The tool catalog, pure: MCPServers → one row per (server, tool), filtered, and the name-level
//! drift between the tools a server declares (`spec.tools`) and the tools it lists live
//! (`status.tools`, written by the operator's handshake). Descriptions and schemas are not
//! compared by name, as in MR; a pinned tool (`spec.tools[].digest`) is also compared by the
//! digest of its live definition (`status.toolDigests`), and one that differs is `pinned` drift.
//!
//! A server without `status.tools` has an unknown live inventory (not handshaken yet, guarded,
//! or behind a gateway): it is named in [`Catalog::live_unknown`] and never counted as drift.

use mcp_runtime_api::MCPServer;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How a tool's declaration and the live inventory compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    /// Declared, and listed live: governed as declared.
    Declared,
    /// Listed live but not declared: a tool the policy does not know.
    Ungoverned,
    /// Declared but not listed live.
    Missing,
    /// Declared with a pin (`spec.tools[].digest`), and listed live with another definition
    /// digest (`status.toolDigests`): tool drift, quarantined unless `onToolDrift: warn`.
    Pinned,
}

/// A tool's side effect, as a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Effect {
    Read,
    Write,
    Destructive,
}

impl Effect {
    fn as_str(self) -> &'static str {
        match self {
            Effect::Read => "read",
            Effect::Write => "write",
            Effect::Destructive => "destructive",
        }
    }
}

/// A trust or risk level, as a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

/// Which rows to produce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Select {
    /// Every declared tool, live or not (`catalog tools`).
    #[default]
    Declared,
    /// Declared tools, and the live tools nobody declared (`catalog tool NAME`).
    DeclaredAndUngoverned,
    /// Only the rows in this drift state (`--drift`).
    Drift(Drift),
}

/// What to keep. Every filter that is set must match.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The server's name.
    pub server: Option<String>,
    /// The server's `spec.teamID`.
    pub team: Option<String>,
    /// The tool's exact name.
    pub name: Option<String>,
    pub side_effect: Option<Effect>,
    /// The tool's `requiredTrust`.
    pub trust: Option<Level>,
    /// The tool's declared `riskLevel`.
    pub risk: Option<Level>,
    /// Case-insensitive substring of the name, the description, a label key or value, or
    /// `key=value`.
    pub query: Option<String>,
    pub select: Select,
}

/// One tool of one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub namespace: String,
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The tool's name.
    pub name: String,
    /// In `spec.tools`. An undeclared (ungoverned) tool has no metadata below.
    pub declared: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side_effect: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_trust: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Listed live (`status.tools`); absent when the server's live inventory is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<bool>,
    /// Absent when the server's live inventory is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
    /// The pinned definition digest (`spec.tools[].digest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// The live definition digest (`status.toolDigests`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_digest: Option<String>,
}

/// The rows, and the servers whose live inventory is unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub tools: Vec<Row>,
    /// `namespace/name` of every server the server and team filters kept that has no
    /// `status.tools`: none of its tools is counted as drift.
    pub live_unknown: Vec<String>,
}

/// The catalog of `servers` under `filter`, rows sorted by namespace, server and tool.
pub fn catalog(servers: &[MCPServer], filter: &Filter) -> Catalog {
    let mut out = Catalog::default();
    for server in servers {
        let name = server.metadata.name.clone().unwrap_or_default();
        let namespace = server.metadata.namespace.clone().unwrap_or_default();
        let team = server.spec.team_id.clone().filter(|t| !t.is_empty());
        if filter.server.as_ref().is_some_and(|s| *s != name)
            || filter
                .team
                .as_ref()
                .is_some_and(|t| Some(t) != team.as_ref())
        {
            continue;
        }
        let live: Option<BTreeSet<&str>> = server
            .status
            .as_ref()
            .and_then(|s| s.tools.as_ref())
            .map(|tools| tools.iter().map(String::as_str).collect());
        if live.is_none() {
            out.live_unknown.push(format!("{namespace}/{name}"));
        }
        let row = |tool: &str| Row {
            namespace: namespace.clone(),
            server: name.clone(),
            team: team.clone(),
            name: tool.to_owned(),
            declared: false,
            description: None,
            side_effect: None,
            required_trust: None,
            risk_level: None,
            labels: BTreeMap::new(),
            live: None,
            drift: None,
            pin: None,
            live_digest: None,
        };
        let live_digest = |tool: &str| {
            server
                .status
                .as_ref()
                .and_then(|s| s.tool_digests.as_ref())
                .and_then(|d| d.iter().find(|d| d.name == tool))
                .map(|d| d.digest.clone())
        };
        let mut declared = BTreeSet::new();
        for tool in &server.spec.tools {
            declared.insert(tool.name.as_str());
            let listed = live.as_ref().map(|live| live.contains(tool.name.as_str()));
            let live_digest = live_digest(&tool.name);
            let drifted = tool
                .digest
                .as_ref()
                .is_some_and(|pin| live_digest.as_ref().is_some_and(|live| live != pin));
            out.tools.push(Row {
                declared: true,
                description: tool.description.clone().filter(|d| !d.is_empty()),
                side_effect: Some(tool.side_effect.as_str()),
                required_trust: Some(tool.required_trust.as_str()),
                risk_level: tool.risk_level.map(|r| r.as_str()),
                labels: tool.labels.clone(),
                live: listed,
                drift: listed.map(|l| match (l, drifted) {
                    (true, true) => Drift::Pinned,
                    (true, false) => Drift::Declared,
                    (false, _) => Drift::Missing,
                }),
                pin: tool.digest.clone(),
                live_digest,
                ..row(&tool.name)
            });
        }
        for tool in live.iter().flatten().filter(|t| !declared.contains(*t)) {
            out.tools.push(Row {
                live: Some(true),
                drift: Some(Drift::Ungoverned),
                live_digest: live_digest(tool),
                ..row(tool)
            });
        }
    }
    out.tools.retain(|row| keep(row, filter));
    out.tools.sort_by(|a, b| {
        (&a.namespace, &a.server, &a.name).cmp(&(&b.namespace, &b.server, &b.name))
    });
    out.live_unknown.sort();
    out
}

fn keep(row: &Row, filter: &Filter) -> bool {
    let selected = match filter.select {
        Select::Declared => row.declared,
        Select::DeclaredAndUngoverned => row.declared || row.drift == Some(Drift::Ungoverned),
        Select::Drift(drift) => row.drift == Some(drift),
    };
    selected
        && filter.name.as_ref().is_none_or(|n| *n == row.name)
        && filter
            .side_effect
            .is_none_or(|e| row.side_effect == Some(e.as_str()))
        && filter
            .trust
            .is_none_or(|t| row.required_trust == Some(t.as_str()))
        && filter
            .risk
            .is_none_or(|r| row.risk_level == Some(r.as_str()))
        && filter.query.as_ref().is_none_or(|q| matches_query(row, q))
}

fn matches_query(row: &Row, query: &str) -> bool {
    let query = query.to_lowercase();
    let found = |text: &str| text.to_lowercase().contains(&query);
    found(&row.name)
        || row.description.as_deref().is_some_and(found)
        || row
            .labels
            .iter()
            .any(|(k, v)| found(k) || found(v) || found(&format!("{k}={v}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn server(namespace: &str, name: &str, team: &str, live: Option<&[&str]>) -> MCPServer {
        let mut object = json!({
            "apiVersion": "mcpruntime.org/v1alpha1",
            "kind": "MCPServer",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "image": "ghcr.io/example/tools:1.0",
                "teamID": team,
                "tools": [
                    {"name": "search", "description": "Full-text SEARCH of the docs",
                     "sideEffect": "read", "riskLevel": "low", "labels": {"area": "docs"}},
                    {"name": "deploy", "description": "Roll out a release",
                     "sideEffect": "write", "requiredTrust": "medium", "riskLevel": "high"},
                    {"name": "drop-table", "sideEffect": "destructive", "requiredTrust": "high"},
                ],
            },
        });
        if let Some(live) = live {
            object["status"] = json!({"tools": live});
        }
        serde_json::from_value(object).expect("server")
    }

    /// `web` (team alpha) lists `search`, `deploy` and `shell` live (`drop-table` is missing,
    /// `shell` is ungoverned); `ops` (team beta) lists exactly what it declares; `dark`
    /// (team beta) has no live inventory.
    fn servers() -> Vec<MCPServer> {
        vec![
            server("ns1", "web", "alpha", Some(&["deploy", "search", "shell"])),
            server(
                "ns2",
                "ops",
                "beta",
                Some(&["deploy", "drop-table", "search"]),
            ),
            server("ns2", "dark", "beta", None),
        ]
    }

    fn keys(catalog: &Catalog) -> Vec<String> {
        catalog
            .tools
            .iter()
            .map(|r| format!("{}/{}", r.server, r.name))
            .collect()
    }

    #[test]
    fn filters_and_drift_select_the_right_rows() {
        let all = Filter::default;
        let cases: Vec<(&str, Filter, Vec<&str>)> = vec![
            (
                "every declared tool, live or not",
                all(),
                vec![
                    "web/deploy",
                    "web/drop-table",
                    "web/search",
                    "dark/deploy",
                    "dark/drop-table",
                    "dark/search",
                    "ops/deploy",
                    "ops/drop-table",
                    "ops/search",
                ],
            ),
            (
                "--server",
                Filter {
                    server: Some("ops".into()),
                    ..all()
                },
                vec!["ops/deploy", "ops/drop-table", "ops/search"],
            ),
            (
                "--team",
                Filter {
                    team: Some("alpha".into()),
                    ..all()
                },
                vec!["web/deploy", "web/drop-table", "web/search"],
            ),
            (
                "--side-effect",
                Filter {
                    side_effect: Some(Effect::Destructive),
                    ..all()
                },
                vec!["web/drop-table", "dark/drop-table", "ops/drop-table"],
            ),
            (
                "--trust (requiredTrust; unset means low)",
                Filter {
                    trust: Some(Level::Low),
                    server: Some("web".into()),
                    ..all()
                },
                vec!["web/search"],
            ),
            (
                "--risk (declared only)",
                Filter {
                    risk: Some(Level::High),
                    team: Some("beta".into()),
                    ..all()
                },
                vec!["dark/deploy", "ops/deploy"],
            ),
            (
                "-q matches the description case-insensitively",
                Filter {
                    query: Some("search of".into()),
                    server: Some("web".into()),
                    ..all()
                },
                vec!["web/search"],
            ),
            (
                "-q matches a label as key=value",
                Filter {
                    query: Some("AREA=docs".into()),
                    server: Some("ops".into()),
                    ..all()
                },
                vec!["ops/search"],
            ),
            (
                "-q matches the name",
                Filter {
                    query: Some("table".into()),
                    team: Some("alpha".into()),
                    ..all()
                },
                vec!["web/drop-table"],
            ),
            (
                "--drift declared: declared and live; unknown servers are not part of it",
                Filter {
                    select: Select::Drift(Drift::Declared),
                    ..all()
                },
                vec![
                    "web/deploy",
                    "web/search",
                    "ops/deploy",
                    "ops/drop-table",
                    "ops/search",
                ],
            ),
            (
                "--drift missing: declared, not live",
                Filter {
                    select: Select::Drift(Drift::Missing),
                    ..all()
                },
                vec!["web/drop-table"],
            ),
            (
                "--drift ungoverned: live, not declared",
                Filter {
                    select: Select::Drift(Drift::Ungoverned),
                    ..all()
                },
                vec!["web/shell"],
            ),
            (
                "an ungoverned tool has no side effect to match",
                Filter {
                    select: Select::Drift(Drift::Ungoverned),
                    side_effect: Some(Effect::Read),
                    ..all()
                },
                vec![],
            ),
            (
                "-q finds an ungoverned tool by name",
                Filter {
                    select: Select::Drift(Drift::Ungoverned),
                    query: Some("SHE".into()),
                    ..all()
                },
                vec!["web/shell"],
            ),
            (
                "one tool: every server declaring it, and where it is ungoverned",
                Filter {
                    select: Select::DeclaredAndUngoverned,
                    name: Some("shell".into()),
                    ..all()
                },
                vec!["web/shell"],
            ),
            (
                "one declared tool",
                Filter {
                    select: Select::DeclaredAndUngoverned,
                    name: Some("deploy".into()),
                    team: Some("beta".into()),
                    ..all()
                },
                vec!["dark/deploy", "ops/deploy"],
            ),
            (
                "filters combine",
                Filter {
                    select: Select::Drift(Drift::Declared),
                    team: Some("beta".into()),
                    side_effect: Some(Effect::Write),
                    ..all()
                },
                vec!["ops/deploy"],
            ),
        ];
        let servers = servers();
        for (case, filter, expected) in cases {
            assert_eq!(keys(&catalog(&servers, &filter)), expected, "{case}");
        }
    }

    #[test]
    fn a_server_without_a_live_inventory_is_named_and_never_drift() {
        let servers = servers();
        for select in [
            Select::Drift(Drift::Declared),
            Select::Drift(Drift::Missing),
            Select::Drift(Drift::Ungoverned),
        ] {
            let found = catalog(
                &servers,
                &Filter {
                    select,
                    ..Filter::default()
                },
            );
            assert_eq!(found.live_unknown, ["ns2/dark"]);
            assert!(found.tools.iter().all(|r| r.server != "dark"), "{select:?}");
        }
        // Declared rows of such a server say "unknown", not "missing".
        let declared = catalog(
            &servers,
            &Filter {
                server: Some("dark".into()),
                ..Filter::default()
            },
        );
        assert!(
            declared
                .tools
                .iter()
                .all(|r| r.live.is_none() && r.drift.is_none())
        );
        // Filtered-out servers are not named.
        let alpha = catalog(
            &servers,
            &Filter {
                team: Some("alpha".into()),
                ..Filter::default()
            },
        );
        assert!(alpha.live_unknown.is_empty());
        // An empty live inventory is known: everything declared is missing.
        let empty = [server("ns", "idle", "", Some(&[]))];
        let missing = catalog(
            &empty,
            &Filter {
                select: Select::Drift(Drift::Missing),
                ..Filter::default()
            },
        );
        assert_eq!(missing.tools.len(), 3);
        assert!(missing.live_unknown.is_empty());
        assert_eq!(missing.tools[0].team, None, "an empty teamID is no team");
    }

    #[test]
    fn rows_carry_the_declared_metadata_and_serialize_in_camel_case() {
        let found = catalog(
            &servers(),
            &Filter {
                server: Some("web".into()),
                name: Some("deploy".into()),
                ..Filter::default()
            },
        );
        assert_eq!(
            serde_json::to_value(&found).expect("json"),
            json!({
                "tools": [{
                    "namespace": "ns1", "server": "web", "team": "alpha", "name": "deploy",
                    "declared": true, "description": "Roll out a release",
                    "sideEffect": "write", "requiredTrust": "medium", "riskLevel": "high",
                    "live": true, "drift": "declared",
                }],
                "liveUnknown": [],
            })
        );
    }

    #[test]
    fn a_pinned_tool_listed_with_another_digest_is_pinned_drift() {
        let mut pinned = server("ns1", "web", "alpha", Some(&["deploy", "search"]));
        pinned.spec.tools[0].digest = Some("sha256:reviewed".into());
        pinned.spec.tools[1].digest = Some("sha256:deploy".into());
        let status = pinned.status.get_or_insert_with(Default::default);
        status.tool_digests = Some(vec![
            mcp_runtime_api::server::ToolDigest {
                name: "deploy".into(),
                digest: "sha256:deploy".into(),
            },
            mcp_runtime_api::server::ToolDigest {
                name: "search".into(),
                digest: "sha256:changed".into(),
            },
        ]);
        let found = catalog(
            &[pinned],
            &Filter {
                select: Select::Drift(Drift::Pinned),
                ..Filter::default()
            },
        );
        let rows: Vec<(&str, Option<&str>, Option<&str>)> = found
            .tools
            .iter()
            .map(|r| (r.name.as_str(), r.pin.as_deref(), r.live_digest.as_deref()))
            .collect();
        assert_eq!(
            rows,
            vec![("search", Some("sha256:reviewed"), Some("sha256:changed"))],
            "deploy matches its pin; drop-table is missing, not drifted"
        );
    }
}
