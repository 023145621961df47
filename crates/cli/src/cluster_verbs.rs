//! The cluster verbs of `mcp-runtime server …`: thin wiring of `mcp_runtime_admin::objects` to
//! the terminal (tables in the CRD's columns, `-o json|yaml`).

use crate::server_cmd::{Output, Scope};
use anyhow::{Context, Result};
use mcp_runtime_admin::install::Kinds;
use mcp_runtime_admin::objects;
use mcp_runtime_api::MCPServer;
use mcp_runtime_api::manifest::{LoadResult, parse_manifests};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn block_on<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(work)
}

async fn client(scope: &Scope) -> Result<mcp_runtime_admin::Client> {
    Ok(mcp_runtime_admin::connect(&scope.cluster.target()).await?.0)
}

/// The documents of `paths` as written (for applying) and as validated, each file read once.
/// `-` is standard input (`mcp-runtime access grant init … | mcp-runtime access grant apply -f -`).
fn read(paths: &[PathBuf]) -> Result<(Vec<serde_json::Value>, LoadResult)> {
    let mut raw = Vec::new();
    let mut all = LoadResult::default();
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && matches!(
                            p.extension().and_then(|e| e.to_str()),
                            Some("yaml" | "yml" | "json")
                        )
                })
                .collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("reading standard input")?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?
            };
            let checked = parse_manifests(&text, Some(&file));
            all.loaded.extend(checked.loaded);
            all.errors.extend(checked.errors);
            raw.extend(documents(&text, &file)?);
        }
    }
    Ok((raw, all))
}

fn documents(text: &str, file: &Path) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value: serde_json::Value = serde::Deserialize::deserialize(document)
            .with_context(|| format!("parsing {}", file.display()))?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

/// `server apply` (and the access verbs' apply): nothing is applied unless every document is
/// valid.
pub fn apply(paths: &[PathBuf], scope: &Scope) -> Result<ExitCode> {
    let (documents, validated) = read(paths)?;
    if !validated.errors.is_empty() {
        for error in &validated.errors {
            eprintln!("error {error}");
        }
        eprintln!(
            "{} refused: nothing was applied (fix the fields named above; `mcp-runtime validate` checks without a cluster)",
            validated.errors.len()
        );
        return Ok(ExitCode::from(1));
    }
    block_on(async {
        let client = client(scope).await?;
        let mut kinds = Kinds::new(client);
        for document in documents {
            let (object, outcome) = objects::apply(&mut kinds, document, &scope.namespace).await?;
            println!("{object} {}", outcome.as_str());
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_one<T: serde::Serialize>(object: &T, output: Output) -> Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(object)?),
        Output::Yaml | Output::Table => print!("{}", serde_norway::to_string(object)?),
    }
    Ok(())
}

/// The CRD's printer columns: NAME, TEAM, PHASE, POLICY, GATEWAY, READY, AGE (and NAMESPACE).
fn server_table(servers: &[MCPServer], with_namespace: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if with_namespace {
        let _ = write!(out, "{:<20} ", "NAMESPACE");
    }
    let _ = writeln!(
        out,
        "{:<24} {:<12} {:<15} {:<7} {:<8} {:<6} AGE",
        "NAME", "TEAM", "PHASE", "POLICY", "GATEWAY", "READY"
    );
    let now = jiff::Timestamp::now();
    for server in servers {
        let status = server.status.clone().unwrap_or_default();
        if with_namespace {
            let _ = write!(
                out,
                "{:<20} ",
                server.metadata.namespace.as_deref().unwrap_or("")
            );
        }
        let age = server
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| age(now.duration_since(t.0)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<24} {:<12} {:<15} {:<7} {:<8} {:<6} {age}",
            server.metadata.name.as_deref().unwrap_or(""),
            server.spec.team_id.as_deref().unwrap_or(""),
            status.phase.map(|p| format!("{p:?}")).unwrap_or_default(),
            status.policy_ready,
            status.gateway_ready,
            status.deployment_ready,
        );
    }
    out
}

fn age(elapsed: jiff::SignedDuration) -> String {
    let seconds = elapsed.as_secs().max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

pub fn list_servers(scope: &Scope, all_namespaces: bool, output: Output) -> Result<ExitCode> {
    block_on(async {
        let client = client(scope).await?;
        let namespace = (!all_namespaces).then_some(scope.namespace.as_str());
        let servers = objects::list::<MCPServer>(&client, namespace).await?;
        match output {
            Output::Table if servers.is_empty() => match namespace {
                Some(ns) => eprintln!("No MCPServers in namespace {ns}."),
                None => eprintln!("No MCPServers."),
            },
            Output::Table => print!("{}", server_table(&servers, all_namespaces)),
            other => print_one(&servers, other)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn get_server(scope: &Scope, name: &str, output: Output) -> Result<ExitCode> {
    block_on(async {
        let client = client(scope).await?;
        let server = objects::get::<MCPServer>(&client, &scope.namespace, name).await?;
        match output {
            Output::Table => print!("{}", server_table(&[server], false)),
            other => print_one(&server, other)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `status.toolDigests` of an MCPServer, by tool name; an error when the operator has not
/// recorded them.
pub fn live_tool_digests(
    scope: &Scope,
    name: &str,
) -> Result<std::collections::BTreeMap<String, String>> {
    block_on(async {
        let client = client(scope).await?;
        let server = objects::get::<MCPServer>(&client, &scope.namespace, name).await?;
        let digests = server
            .status
            .and_then(|s| s.tool_digests)
            .with_context(|| {
                format!(
                    "MCPServer {}/{name} has no status.toolDigests yet (the operator records them once its pods are ready); pass --url to handshake with the server instead",
                    scope.namespace
                )
            })?;
        Ok(digests.into_iter().map(|t| (t.name, t.digest)).collect())
    })
}

/// Conditions, and exit 3 unless Ready.
pub fn server_status(scope: &Scope, name: &str) -> Result<ExitCode> {
    block_on(async {
        let client = client(scope).await?;
        let server = objects::get::<MCPServer>(&client, &scope.namespace, name).await?;
        let status = server.status.clone().unwrap_or_default();
        let phase = status.phase.map(|p| format!("{p:?}")).unwrap_or_else(|| {
            "not reconciled yet (is the operator running? `mcp-runtime status --cluster`)".into()
        });
        println!("{}/{}: {phase}", scope.namespace, name);
        if let Some(url) = &status.url {
            println!("URL: {url}");
        }
        if let Some(message) = &status.message {
            println!("{message}");
        }
        if !status.conditions.is_empty() {
            println!(
                "{:<18} {:<7} {:<24} MESSAGE",
                "CONDITION", "STATUS", "REASON"
            );
            for c in &status.conditions {
                println!(
                    "{:<18} {:<7} {:<24} {}",
                    c.type_, c.status, c.reason, c.message
                );
            }
        }
        let ready = status.phase == Some(mcp_runtime_api::server::ServerPhase::Ready);
        Ok(if ready {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        })
    })
}

pub fn delete_server(scope: &Scope, name: &str) -> Result<ExitCode> {
    block_on(async {
        let client = client(scope).await?;
        objects::delete::<MCPServer>(&client, &scope.namespace, name).await?;
        println!("mcpserver/{name} deleted");
        Ok(ExitCode::SUCCESS)
    })
}

/// Grants and sessions as a table: NAME, SERVER, SUBJECT, TRUST, STATE, AGE (and NAMESPACE).
fn access_table(objects: &[serde_json::Value], with_namespace: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if with_namespace {
        let _ = write!(out, "{:<20} ", "NAMESPACE");
    }
    let _ = writeln!(
        out,
        "{:<24} {:<20} {:<36} {:<7} {:<9} AGE",
        "NAME", "SERVER", "SUBJECT", "TRUST", "STATE"
    );
    let now = jiff::Timestamp::now();
    for object in objects {
        let text = |value: &serde_json::Value| value.as_str().unwrap_or("").to_owned();
        if with_namespace {
            let _ = write!(out, "{:<20} ", text(&object["metadata"]["namespace"]));
        }
        let spec = &object["spec"];
        let subject = ["humanID", "agentID", "teamID"]
            .iter()
            .filter_map(|k| {
                spec["subject"][k]
                    .as_str()
                    .map(|v| format!("{}={v}", &k[..k.len() - 2]))
            })
            .collect::<Vec<_>>()
            .join(",");
        let trust = spec["maxTrust"]
            .as_str()
            .or(spec["consentedTrust"].as_str())
            .unwrap_or("");
        let state = if spec["disabled"] == true {
            "Disabled".to_owned()
        } else if spec["revoked"] == true {
            "Revoked".to_owned()
        } else {
            object["status"]["phase"].as_str().unwrap_or("-").to_owned()
        };
        let age = object["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| age(now.duration_since(t)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<24} {:<20} {:<36} {:<7} {:<9} {age}",
            text(&object["metadata"]["name"]),
            text(&spec["serverRef"]["name"]),
            subject,
            trust,
            state
        );
    }
    out
}

type Namespaced = k8s_openapi::NamespaceResourceScope;

/// `access grant|session list`.
pub fn list<K>(scope: &Scope, all_namespaces: bool, output: Output) -> Result<ExitCode>
where
    K: kube::Resource<DynamicType = (), Scope = Namespaced>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    block_on(async {
        let client = client(scope).await?;
        let namespace = (!all_namespaces).then_some(scope.namespace.as_str());
        let items = objects::list::<K>(&client, namespace).await?;
        match output {
            Output::Table if items.is_empty() => {
                eprintln!(
                    "No {}s{}.",
                    K::kind(&()),
                    namespace
                        .map(|ns| format!(" in namespace {ns}"))
                        .unwrap_or_default()
                );
            }
            Output::Table => {
                let values: Vec<serde_json::Value> = items
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<Result<_, _>>()?;
                print!("{}", access_table(&values, all_namespaces));
            }
            other => print_one(&items, other)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `access grant|session get`.
pub fn get<K>(scope: &Scope, name: &str, output: Output) -> Result<ExitCode>
where
    K: kube::Resource<DynamicType = (), Scope = Namespaced>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    block_on(async {
        let client = client(scope).await?;
        let object = objects::get::<K>(&client, &scope.namespace, name).await?;
        match output {
            Output::Table => print!("{}", access_table(&[serde_json::to_value(&object)?], false)),
            other => print_one(&object, other)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `access grant|session delete`.
pub fn delete<K>(scope: &Scope, name: &str) -> Result<ExitCode>
where
    K: kube::Resource<DynamicType = (), Scope = Namespaced>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    block_on(async {
        let client = client(scope).await?;
        objects::delete::<K>(&client, &scope.namespace, name).await?;
        println!("{}/{name} deleted", K::kind(&()).to_lowercase());
        Ok(ExitCode::SUCCESS)
    })
}
