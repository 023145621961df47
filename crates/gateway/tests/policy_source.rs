//! The policy source against real files: loading, change notification, last-good on failure,
//! Kubernetes ConfigMap symlink swaps and a file that appears late.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mcp_runtime_gateway::policy_source::{
    DocumentDefaults, PolicyStatus, PolicyStore, ReloadCounts, WatchHandle, watch_file,
};
use mcp_runtime_policy::{Grant, PolicyDocument, SessionBinding, SideEffect, Tool, Trust};
use mcp_runtime_testkit::eventually;
use pretty_assertions::assert_eq;
use serde_json::Value;

/// A finalized document; `revoked` flips the session binding and so the revision.
fn document(revoked: bool) -> PolicyDocument {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = "tools".into();
    document
        .tools
        .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
    let mut grant = Grant::new("tools", "claude-read");
    grant.agent_id = "claude".into();
    grant.max_trust = Trust::Medium.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    let mut session = SessionBinding::new("tools", "session-1");
    session.agent_id = "claude".into();
    session.revoked = revoked;
    document.sessions.push(session);
    document
        .finalize(jiff::Timestamp::UNIX_EPOCH)
        .expect("finalize");
    document
}

fn json(document: &PolicyDocument) -> String {
    document.to_json_pretty().expect("serialize")
}

fn write(path: &Path, contents: &str) {
    std::fs::write(path, contents).expect("write policy file");
}

/// Polls every 10 ms until `done` holds for the status, or panics after `within`.
async fn wait_for(
    store: &PolicyStore,
    within: Duration,
    what: &str,
    done: impl Fn(&PolicyStatus) -> bool,
) -> PolicyStatus {
    eventually(what, within, async || {
        let status = store.status();
        done(&status).then_some(status)
    })
    .await
}

async fn watch(path: PathBuf) -> (Arc<PolicyStore>, WatchHandle) {
    let store = Arc::new(PolicyStore::new());
    let handle = watch_file(Arc::clone(&store), path)
        .await
        .expect("watch the policy directory");
    (store, handle)
}

fn has_revision(revision: &str) -> impl Fn(&PolicyStatus) -> bool + '_ {
    move |status| {
        status.ready
            && status.revision.as_deref() == Some(revision)
            && status.last_reload_error.is_none()
    }
}

#[tokio::test]
async fn valid_file_is_ready_with_its_revision_in_the_config_status_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.json");
    let document = document(false);

    let store = PolicyStore::new();
    let empty = serde_json::to_value(store.status()).expect("status JSON");
    assert_eq!(
        empty,
        serde_json::json!({
            "ready": false,
            "schema_version": null,
            "revision": null,
            "loaded_at": null,
            "last_reload_error": null,
        })
    );
    assert!(store.current().is_none());

    write(&path, &json(&document));
    store.load_file(&path).expect("load");
    let policy = store.current().expect("a policy is active");
    assert_eq!(policy.revision(), document.revision);

    let status = store.status();
    assert!(status.ready);
    assert_eq!(status.schema_version.as_deref(), Some("v1"));
    assert_eq!(status.revision.as_deref(), Some(document.revision.as_str()));
    assert_eq!(status.last_reload_error, None);
    let loaded_at = status.loaded_at.clone().expect("loaded_at");
    assert!(
        loaded_at.parse::<jiff::Timestamp>().is_ok(),
        "{loaded_at} is not RFC 3339"
    );

    let value = serde_json::to_value(&status).expect("status JSON");
    let keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "ready",
            "schema_version",
            "revision",
            "loaded_at",
            "last_reload_error"
        ]
    );
    assert_eq!(value["ready"], Value::Bool(true));
    assert_eq!(value["revision"], Value::from(document.revision.as_str()));
    assert_eq!(value["last_reload_error"], Value::Null);
    assert_eq!(
        store.reload_counts(),
        ReloadCounts {
            success: 1,
            unchanged: 0,
            failure: 0
        }
    );

    // The watcher reaches the same state on its own.
    let (watched, _handle) = watch(path).await;
    assert!(watched.status().ready);
    assert_eq!(watched.status().revision, status.revision);
}

#[tokio::test]
async fn unchanged_revision_swaps_nothing_but_clears_a_stale_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.json");
    let store = PolicyStore::new();
    let document = document(false);
    write(&path, &json(&document));
    store.load_file(&path).expect("load");
    let first = store.current().expect("active");

    // A tampered revision is invalid: rejected, the last good policy stays.
    let mut tampered = document.clone();
    tampered.revision = "sha256:0000".into();
    write(&path, &json(&tampered));
    let error = store
        .load_file(&path)
        .expect_err("tampered revision")
        .to_string();
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(store.status().last_reload_error.is_some());

    // Only `generated_at` differs: same revision, no swap, error cleared.
    let mut regenerated = document.clone();
    regenerated
        .finalize(jiff::Timestamp::from_second(1_800_000_000).expect("timestamp"))
        .expect("finalize");
    assert_eq!(regenerated.revision, document.revision);
    write(&path, &json(&regenerated));
    store.load_file(&path).expect("load");
    let second = store.current().expect("active");
    assert!(
        Arc::ptr_eq(&first, &second),
        "an unchanged revision swapped"
    );
    assert_eq!(store.status().last_reload_error, None);
    assert_eq!(
        store.reload_counts(),
        ReloadCounts {
            success: 1,
            unchanged: 1,
            failure: 1
        }
    );
    assert_eq!(
        store.reload_counts().by_result(),
        [("success", 1), ("unchanged", 1), ("failure", 1)]
    );
}

#[tokio::test]
async fn a_rewrite_is_picked_up_within_one_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.json");
    let before = document(false);
    write(&path, &json(&before));
    let (store, _handle) = watch(path.clone()).await;
    assert_eq!(store.status().revision, Some(before.revision.clone()));

    let revoked = document(true);
    assert_ne!(revoked.revision, before.revision);
    write(&path, &json(&revoked));
    wait_for(
        &store,
        Duration::from_secs(1),
        "the revoked session's revision",
        has_revision(&revoked.revision),
    )
    .await;
    let policy = store.current().expect("active");
    assert!(policy.document().sessions[0].revoked);
}

#[tokio::test]
async fn a_corrupt_file_keeps_the_last_good_policy_until_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.json");
    let good = document(false);
    write(&path, &json(&good));
    let (store, _handle) = watch(path.clone()).await;

    write(&path, "{ this is not a policy");
    let status = wait_for(&store, Duration::from_secs(1), "a reload error", |status| {
        status.last_reload_error.is_some()
    })
    .await;
    assert!(status.ready, "the last good policy stays active");
    assert_eq!(status.revision.as_deref(), Some(good.revision.as_str()));
    let error = status.last_reload_error.expect("error");
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("not valid JSON"), "{error}");
    assert_eq!(
        store.current().expect("active").revision(),
        good.revision,
        "the request path still sees the last good policy"
    );
    assert!(store.reload_counts().failure >= 1);

    let fixed = document(true);
    write(&path, &json(&fixed));
    wait_for(
        &store,
        Duration::from_secs(1),
        "the fixed document, error cleared",
        has_revision(&fixed.revision),
    )
    .await;
}

/// Lays out a ConfigMap volume the way the kubelet's atomic writer does, and returns the
/// path of `policy.json`.
fn configmap_volume(dir: &Path, generation: &str, contents: &str) -> PathBuf {
    let data_dir = dir.join(generation);
    std::fs::create_dir(&data_dir).expect("timestamped dir");
    write(&data_dir.join("policy.json"), contents);
    std::os::unix::fs::symlink(generation, dir.join("..data")).expect("..data symlink");
    let path = dir.join("policy.json");
    std::os::unix::fs::symlink("..data/policy.json", &path).expect("policy.json symlink");
    path
}

/// The kubelet's update: a new timestamped dir, a new `..data_tmp` symlink renamed over
/// `..data`, then the old dir removed.
fn configmap_update(dir: &Path, old_generation: &str, generation: &str, contents: &str) {
    let data_dir = dir.join(generation);
    std::fs::create_dir(&data_dir).expect("timestamped dir");
    write(&data_dir.join("policy.json"), contents);
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(generation, &tmp).expect("..data_tmp symlink");
    std::fs::rename(&tmp, dir.join("..data")).expect("swap ..data");
    std::fs::remove_dir_all(dir.join(old_generation)).expect("remove the old dir");
}

#[tokio::test]
async fn a_kubernetes_configmap_symlink_swap_is_picked_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = document(false);
    let path = configmap_volume(dir.path(), "..2026_11_22_05_00_00.1", &json(&first));
    let (store, _handle) = watch(path.clone()).await;
    assert_eq!(store.status().revision, Some(first.revision.clone()));

    let second = document(true);
    configmap_update(
        dir.path(),
        "..2026_11_22_05_00_00.1",
        "..2026_11_22_05_01_00.2",
        &json(&second),
    );
    wait_for(
        &store,
        Duration::from_secs(1),
        "the swapped-in revision",
        has_revision(&second.revision),
    )
    .await;

    // And back again: the watch survives a swap.
    configmap_update(
        dir.path(),
        "..2026_11_22_05_01_00.2",
        "..2026_11_22_05_02_00.3",
        &json(&first),
    );
    wait_for(
        &store,
        Duration::from_secs(1),
        "the second swap",
        has_revision(&first.revision),
    )
    .await;
}

#[tokio::test]
async fn a_missing_file_is_not_ready_until_it_appears() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.json");
    let (store, _handle) = watch(path.clone()).await;

    let status = store.status();
    assert!(!status.ready);
    assert!(store.current().is_none());
    let error = status
        .last_reload_error
        .expect("the missing file is reported");
    assert!(error.contains(&path.display().to_string()), "{error}");

    let document = document(false);
    // Written next to it and renamed in, as an atomic writer would.
    let tmp = dir.path().join(".policy.json.tmp");
    write(&tmp, &json(&document));
    std::fs::rename(&tmp, &path).expect("rename into place");
    wait_for(
        &store,
        Duration::from_secs(1),
        "the policy that appeared",
        has_revision(&document.revision),
    )
    .await;
}

#[tokio::test]
async fn a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("absent").join("policy.json");
    let store = Arc::new(PolicyStore::new());
    let error = watch_file(store, path).await.expect_err("no directory");
    assert!(error.to_string().contains("absent"), "{error}");
}

#[test]
fn environment_defaults_fill_only_what_the_document_leaves_unset() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("policy.json");
    write(&path, &json(&document(false)));
    let store = PolicyStore::with_defaults(DocumentDefaults {
        policy_mode: Some("observe".into()),
        human_id_header: Some("X-Person".into()),
        ..DocumentDefaults::default()
    });
    store.load_file(&path).expect("valid policy");
    let active = store.current().expect("loaded");
    // Unset in the document: filled from the environment.
    assert_eq!(active.document().auth.human_id_header, "X-Person");
    assert_eq!(
        serde_json::to_value(&active.document().policy.mode).expect("json"),
        Value::String("observe".into())
    );
    // The revision is still the operator's.
    assert_eq!(active.revision(), document(false).revision);

    // A document that sets the mode keeps it: the environment cannot loosen enforcement.
    let mut strict = document(false);
    strict.policy.mode = serde_json::from_value(Value::String("allow-list".into())).expect("mode");
    strict
        .finalize(jiff::Timestamp::UNIX_EPOCH)
        .expect("finalize");
    write(&path, &json(&strict));
    store.load_file(&path).expect("valid policy");
    let active = store.current().expect("loaded");
    assert_eq!(
        serde_json::to_value(&active.document().policy.mode).expect("json"),
        Value::String("allow-list".into())
    );
}

#[test]
fn auth_mode_only_fills_or_repeats_the_documents_mode() {
    use mcp_runtime_gateway::policy_source::parse_auth_mode;
    use mcp_runtime_policy::AuthMode;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("policy.json");
    let store = PolicyStore::with_defaults(DocumentDefaults {
        auth_mode: parse_auth_mode("none").expect("known mode"),
        ..DocumentDefaults::default()
    });
    // Unset in the document: AUTH_MODE fills it.
    write(&path, &json(&document(false)));
    store.load_file(&path).expect("valid policy");
    assert_eq!(
        store
            .current()
            .expect("loaded")
            .document()
            .auth
            .mode
            .known(),
        Some(AuthMode::None)
    );
    let good = store.status().revision;

    // A document that says otherwise is refused, naming both; the last good policy stays.
    let mut header = document(true);
    header.auth.mode = AuthMode::Header.into();
    header
        .finalize(jiff::Timestamp::UNIX_EPOCH)
        .expect("finalize");
    write(&path, &json(&header));
    let error = store
        .load_file(&path)
        .expect_err("conflicting mode")
        .to_string();
    assert!(
        error.contains("\"header\"") && error.contains("\"none\"") && error.contains("AUTH_MODE"),
        "{error}"
    );
    assert_eq!(store.status().revision, good);

    assert!(parse_auth_mode("kerberos").is_err());
    assert_eq!(parse_auth_mode(" ").expect("empty"), None);
}

/// `document(revoked)` rendered at `second`.
fn document_at(revoked: bool, second: i64) -> PolicyDocument {
    let mut document = document(revoked);
    document
        .finalize(jiff::Timestamp::from_second(second).expect("timestamp"))
        .expect("finalize");
    document
}

#[test]
fn live_sources_the_newest_document_wins_between_file_and_api() {
    use mcp_runtime_gateway::policy_source::{PolicySink, SOURCE_API, SOURCE_FILE};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("policy.json");
    let store = PolicyStore::new();
    store.register_source(SOURCE_API);
    assert!(
        store.status().stale,
        "a registered source is down until it connects"
    );

    // The file has the old (not revoked) document, rendered at t=100.
    let old = document_at(false, 100);
    write(&path, &json(&old));
    store.load_file(&path).expect("file");
    assert_eq!(store.status().source.as_deref(), Some(SOURCE_FILE));

    // The API delivers the revocation rendered at t=200: it wins.
    let revoked = document_at(true, 200);
    store.source_up(SOURCE_API);
    store.policy_text(SOURCE_API, "test api", &json(&revoked));
    let status = store.status();
    assert_eq!(status.revision.as_deref(), Some(revoked.revision.as_str()));
    assert_eq!(status.source.as_deref(), Some(SOURCE_API));
    assert!(!status.stale);
    assert!(status.sources[SOURCE_API].up);

    // The kubelet has not refreshed the file yet: re-reading the older file rolls nothing back.
    store.load_file(&path).expect("valid file");
    assert_eq!(
        store.status().revision.as_deref(),
        Some(revoked.revision.as_str()),
        "an older file must not undo a revocation the API delivered"
    );

    // Once the file catches up with something newer still (the API being down), it wins.
    store.source_down(SOURCE_API, "connection refused");
    let newer = document_at(false, 300);
    write(&path, &json(&newer));
    store.load_file(&path).expect("file");
    let status = store.status();
    assert_eq!(status.revision.as_deref(), Some(newer.revision.as_str()));
    assert_eq!(status.source.as_deref(), Some(SOURCE_FILE));
    assert!(status.stale);
    assert_eq!(
        status.sources[SOURCE_API].last_error.as_deref(),
        Some("connection refused")
    );

    // And an older API document (a late event) does not replace it either.
    store.policy_text(SOURCE_API, "test api", &json(&revoked));
    assert_eq!(
        store.status().revision.as_deref(),
        Some(newer.revision.as_str())
    );
}

#[test]
fn live_sources_an_equal_timestamp_from_the_file_does_not_replace_the_api_document() {
    use mcp_runtime_gateway::policy_source::{PolicySink, SOURCE_API};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("policy.json");
    let store = PolicyStore::new();
    let revoked = document_at(true, 100);
    store.policy_text(SOURCE_API, "test api", &json(&revoked));
    write(&path, &json(&document_at(false, 100)));
    store.load_file(&path).expect("valid file");
    assert_eq!(
        store.status().revision.as_deref(),
        Some(revoked.revision.as_str())
    );
}

#[test]
fn live_sources_an_invalid_api_document_keeps_the_last_good_policy() {
    use mcp_runtime_gateway::policy_source::{PolicySink, SOURCE_API};
    let store = PolicyStore::new();
    let good = document_at(true, 100);
    store.source_up(SOURCE_API);
    store.policy_text(
        SOURCE_API,
        "ConfigMap tools/files-gateway-policy",
        &json(&good),
    );
    for bad in ["{not json", r#"{"schema_version":"v9"}"#, ""] {
        store.policy_text(SOURCE_API, "ConfigMap tools/files-gateway-policy", bad);
        let status = store.status();
        assert!(status.ready);
        assert_eq!(status.revision.as_deref(), Some(good.revision.as_str()));
        let error = status.last_reload_error.expect("the error is reported");
        assert!(
            error.contains("ConfigMap tools/files-gateway-policy"),
            "{error}"
        );
        assert!(
            store
                .current()
                .expect("still enforcing")
                .document()
                .sessions[0]
                .revoked
        );
    }
    assert_eq!(store.reload_counts().failure, 3);
    // A source that goes down keeps the policy too, and says so.
    store.source_down(SOURCE_API, "watch ended");
    let status = store.status();
    assert!(status.ready && status.stale);
    assert_eq!(status.revision.as_deref(), Some(good.revision.as_str()));
    let body = serde_json::to_value(&status).expect("status json");
    assert_eq!(body["sources"]["api"]["up"], Value::Bool(false));
    let health = store.source_health();
    assert_eq!(health.len(), 1);
    assert_eq!((health[0].0, health[0].1), (SOURCE_API, false));
}

#[test]
fn without_live_sources_the_status_body_is_unchanged() {
    let store = PolicyStore::new();
    let body = serde_json::to_value(store.status()).expect("status json");
    assert_eq!(
        body.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(
            [
                "ready",
                "schema_version",
                "revision",
                "loaded_at",
                "last_reload_error"
            ]
            .map(str::to_owned)
            .to_vec()
        )
    );
}
