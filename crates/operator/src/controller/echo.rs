//! The operator's own writes, remembered so that their watch echoes trigger nothing.
//!
//! A write returns the object at its new `resourceVersion`, and the watch then delivers that
//! same version back. Reconciling a server again on that echo reads all of its children to find
//! what the reconcile that wrote them already knew. At 10,000 servers those reads are a third of
//! the API server's load during a cold start (each server writes its children, then its status,
//! and each write came back as a trigger). A `resourceVersion` names one state of one object, so
//! an event carrying the version this process wrote carries nothing it has not seen: any other
//! change, before or after, comes with a version of its own and still triggers.
//!
//! At most one version is kept per object (a newer write replaces it, its echo removes it). A
//! write that changed nothing keeps its version and has no echo; the entry stays until the
//! object is written again, which bounds the map by the number of children.

use kube::core::ObjectMeta;
use std::collections::HashMap;
use std::sync::Mutex;

/// Kind, namespace, name.
type Key = (String, String, String);

/// The last `resourceVersion` written by this process, per object.
#[derive(Debug, Default)]
pub struct OwnWrites {
    versions: Mutex<HashMap<Key, String>>,
}

impl OwnWrites {
    /// Records a write of `kind` that returned `written`.
    pub fn record(&self, kind: &str, written: &ObjectMeta) {
        let (Some(key), Some(version)) = (key(kind, written), written.resource_version.clone())
        else {
            return;
        };
        self.lock().insert(key, version);
    }

    /// True when `seen` is the echo of this process's last write of it (which is then
    /// forgotten: each write has one echo).
    pub fn is_echo(&self, kind: &str, seen: &ObjectMeta) -> bool {
        let (Some(key), Some(version)) = (key(kind, seen), seen.resource_version.as_deref()) else {
            return false;
        };
        let mut versions = self.lock();
        if versions.get(&key).map(String::as_str) == Some(version) {
            versions.remove(&key);
            true
        } else {
            false
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, String>> {
        self.versions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(kind: &str, meta: &ObjectMeta) -> Option<Key> {
    Some((
        kind.to_owned(),
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, version: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            resource_version: Some(version.into()),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn only_the_version_written_is_an_echo_and_only_once() {
        let writes = OwnWrites::default();
        writes.record("Deployment", &meta("a", "7"));
        // Someone else's change before the echo arrives: a version of its own.
        assert!(!writes.is_echo("Deployment", &meta("a", "6")));
        // Same name, another kind.
        assert!(!writes.is_echo("Service", &meta("a", "7")));
        assert!(writes.is_echo("Deployment", &meta("a", "7")));
        // A relist delivering the same version again triggers as before.
        assert!(!writes.is_echo("Deployment", &meta("a", "7")));
    }

    #[test]
    fn a_newer_write_replaces_the_older_one() {
        let writes = OwnWrites::default();
        writes.record("Deployment", &meta("a", "7"));
        writes.record("Deployment", &meta("a", "9"));
        assert!(!writes.is_echo("Deployment", &meta("a", "7")));
        assert!(writes.is_echo("Deployment", &meta("a", "9")));
    }

    #[test]
    fn objects_without_a_name_or_version_are_never_echoes() {
        let writes = OwnWrites::default();
        let mut nameless = meta("a", "7");
        nameless.name = None;
        writes.record("Deployment", &nameless);
        assert!(!writes.is_echo("Deployment", &nameless));
        let mut unversioned = meta("b", "7");
        unversioned.resource_version = None;
        writes.record("Deployment", &unversioned);
        assert!(!writes.is_echo("Deployment", &unversioned));
    }
}
