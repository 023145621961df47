//! `mcp-runtime server pin NAME -f FILE`: writes the digests of a server's live tool definitions
//! into its manifest (`spec.tools[].digest`), from the cluster's `status.toolDigests` or from a
//! live handshake (`--url`).
//!
//! The file is rewritten through the YAML serializer: every document and every field is kept,
//! in order, but comments and formatting are not.

use anyhow::{Context, Result, bail};
use serde_norway::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The MCPServer's name (`metadata.name`).
    pub(crate) name: String,
    /// The manifest file holding the MCPServer; rewritten in place.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Handshake with the server at this MCP URL (its own endpoint, not a gateway, which filters
    /// tools/list) instead of reading `status.toolDigests` from the cluster.
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    #[command(flatten)]
    pub(crate) scope: crate::server_cmd::Scope,
}

/// What pinning changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pinned {
    /// Declared tools whose pin was set or changed: name, old pin, new pin.
    pub changed: Vec<(String, Option<String>, String)>,
    /// Declared tools the server does not list (left as they are).
    pub not_listed: Vec<String>,
    /// Live tools the manifest does not declare (a pin needs a declared tool and its side effect).
    pub undeclared: Vec<String>,
}

pub fn run(args: &PinArgs) -> Result<ExitCode> {
    let digests: BTreeMap<String, String> = match &args.url {
        Some(url) => crate::cluster_verbs::block_on(async {
            let facts = mcp_runtime_local::probe::handshake(url)
                .await
                .with_context(|| format!("handshake with {url}"))?;
            Ok(facts.tool_digests)
        })?,
        None => crate::cluster_verbs::live_tool_digests(&args.scope, &args.name)?,
    };
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let (rewritten, pinned) = pin_manifest(&text, &args.name, &digests)
        .with_context(|| format!("{}", args.file.display()))?;
    std::fs::write(&args.file, rewritten)
        .with_context(|| format!("writing {}", args.file.display()))?;
    for (name, old, new) in &pinned.changed {
        match old {
            Some(old) => println!("{name}: {old} -> {new}"),
            None => println!("{name}: pinned {new}"),
        }
    }
    if pinned.changed.is_empty() {
        println!("every declared tool already carries its live digest");
    }
    for name in &pinned.not_listed {
        eprintln!("note: {name} is declared but the server does not list it; its pin is unchanged");
    }
    for name in &pinned.undeclared {
        eprintln!(
            "note: the server lists {name}, which spec.tools does not declare; declare it (with its sideEffect) to pin it"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Sets `spec.tools[].digest` of the MCPServer `name` in the YAML `text` (one or more documents)
/// to the digests in `live`. Pure.
pub fn pin_manifest(
    text: &str,
    name: &str,
    live: &BTreeMap<String, String>,
) -> Result<(String, Pinned)> {
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value: Value = serde::Deserialize::deserialize(document)?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    let mut pinned = Pinned::default();
    let mut found = false;
    for document in &mut documents {
        let is_server = document.get("kind").and_then(Value::as_str) == Some("MCPServer")
            && document
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                == Some(name);
        if !is_server {
            continue;
        }
        found = true;
        let Some(tools) = document
            .get_mut("spec")
            .and_then(|spec| spec.get_mut("tools"))
            .and_then(Value::as_sequence_mut)
        else {
            bail!("MCPServer {name}: spec.tools declares no tools to pin");
        };
        let mut declared = Vec::new();
        for (index, tool) in tools.iter_mut().enumerate() {
            let Some(tool_name) = tool.get("name").and_then(Value::as_str).map(str::to_owned)
            else {
                bail!("MCPServer {name}: spec.tools[{index}].name is missing");
            };
            declared.push(tool_name.clone());
            let Some(digest) = live.get(&tool_name) else {
                pinned.not_listed.push(tool_name);
                continue;
            };
            let Some(map) = tool.as_mapping_mut() else {
                bail!("MCPServer {name}: spec.tools[{index}] is not a mapping");
            };
            let old = map.get("digest").and_then(Value::as_str).map(str::to_owned);
            if old.as_deref() != Some(digest.as_str()) {
                map.insert("digest".into(), Value::String(digest.clone()));
                pinned.changed.push((tool_name, old, digest.clone()));
            }
        }
        pinned.undeclared = live
            .keys()
            .filter(|tool| !declared.contains(tool))
            .cloned()
            .collect();
    }
    if !found {
        bail!("no MCPServer named {name} in the file");
    }
    let mut out = String::new();
    for (index, document) in documents.iter().enumerate() {
        if index > 0 || documents.len() > 1 {
            out.push_str("---\n");
        }
        out.push_str(&serde_norway::to_string(document)?);
    }
    Ok((out, pinned))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata:
  name: docs
spec:
  image: example/docs:1
  tools:
    - {name: search, sideEffect: read, digest: 'sha256:old'}
    - {name: add, sideEffect: read}
    - {name: retired, sideEffect: write}
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAccessGrant
metadata:
  name: dev
spec:
  serverRef: {name: docs}
  subject: {humanID: dev}
";

    fn digest(fill: char) -> String {
        format!("sha256:{}", fill.to_string().repeat(64))
    }

    #[test]
    fn pins_every_listed_declared_tool_and_keeps_the_other_documents() {
        let (new, add) = (digest('1'), digest('2'));
        let live = BTreeMap::from([
            ("search".to_owned(), new.clone()),
            ("add".to_owned(), add.clone()),
            ("shell".to_owned(), digest('3')),
        ]);
        let (text, pinned) = pin_manifest(MANIFEST, "docs", &live).expect("pins");
        assert_eq!(
            pinned.changed,
            vec![
                (
                    "search".to_owned(),
                    Some("sha256:old".to_owned()),
                    new.clone()
                ),
                ("add".to_owned(), None, add.clone()),
            ]
        );
        assert_eq!(pinned.not_listed, vec!["retired".to_owned()]);
        assert_eq!(pinned.undeclared, vec!["shell".to_owned()]);
        let loaded = mcp_runtime_api::manifest::parse_manifests(&text, None);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let server = loaded.servers().next().expect("server");
        let digests: Vec<Option<&str>> = server
            .spec
            .tools
            .iter()
            .map(|t| t.digest.as_deref())
            .collect();
        assert_eq!(digests, vec![Some(new.as_str()), Some(add.as_str()), None]);
        assert_eq!(loaded.grants().count(), 1, "{text}");
        // Pinning again changes nothing.
        let (_, again) = pin_manifest(&text, "docs", &live).expect("pins");
        assert!(again.changed.is_empty());
    }

    #[test]
    fn a_missing_server_is_an_error_naming_it() {
        let error = pin_manifest(MANIFEST, "other", &BTreeMap::new()).expect_err("no server");
        assert!(
            error.to_string().contains("no MCPServer named other"),
            "{error}"
        );
    }
}
