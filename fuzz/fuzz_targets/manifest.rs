//! The manifest loader (`mcp-runtime up`, `validate`, `apply`): multi-document YAML read into
//! MCPServer, MCPAccessGrant and MCPAgentSession objects, validated against the CRD schemas and
//! defaulted.
//!
//! Input: the text of a manifest file (bytes that are not UTF-8 are not a file the loader can be
//! given, and are skipped).
//!
//! Beyond "never panics", what must hold:
//! * every refused document names at least one problem;
//! * every accepted object, written back as YAML, loads again as the same object (defaulting is
//!   idempotent and the typed form validates).

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_runtime_api::manifest::{Manifest, parse_manifests};

fn to_yaml(manifest: &Manifest) -> String {
    let written = match manifest {
        Manifest::Server(server) => serde_norway::to_string(server),
        Manifest::Grant(grant) => serde_norway::to_string(grant),
        Manifest::Session(session) => serde_norway::to_string(session),
    };
    written.expect("a loaded object serialises")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let result = parse_manifests(text, None);
    for error in &result.errors {
        assert!(
            !error.errors.is_empty(),
            "a document refused without a reason"
        );
    }
    for loaded in &result.loaded {
        let manifest = &loaded.manifest;
        let _ = (manifest.kind(), manifest.name(), manifest.namespace());
        let yaml = to_yaml(manifest);
        let again = parse_manifests(&yaml, None);
        assert!(
            again.errors.is_empty(),
            "a loaded object, written back, is refused: {:?}\n{yaml}",
            again.errors
        );
        assert_eq!(again.loaded.len(), 1);
        assert_eq!(
            &again.loaded[0].manifest, manifest,
            "a loaded object, written back, loads differently"
        );
    }
});
