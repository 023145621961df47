//! The tamper-evident audit chain: canonical bytes, event hashes, signed checkpoints and the
//! verification of a stored chain. Pure: no I/O (callers read key files and stores).
//!
//! # Format (version 1)
//!
//! - Each event of a gateway instance carries `chain: {id, seq, prev_hash}`: the chain id chosen
//!   at start (a UUIDv7), its sequence number from 1, and the hash of the previous event of the
//!   same chain ([`GENESIS`] for seq 1).
//! - The hash of an event is the lowercase hex SHA-256 of its [canonical JSON](canonical_json):
//!   the whole event object as sent, `chain` included.
//! - A checkpoint ([`Checkpoint`]) signs the chain head `{chain_id, seq, hash, key_id}` with
//!   Ed25519; the signed bytes are the canonical JSON of the checkpoint without `signature`.
//!
//! `docs/audit-chain.md` describes the format for third-party verifiers.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `prev_hash` of the first event of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The `event_type` of a checkpoint event.
pub const EVENT_TYPE_CHECKPOINT: &str = "mcp.audit.checkpoint";

/// Where an event stands in its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// The chain: one per gateway instance (a restart starts a new chain).
    pub id: String,
    /// Position in the chain, from 1.
    pub seq: u64,
    /// Hash of the event at `seq - 1` ([`GENESIS`] for seq 1).
    pub prev_hash: String,
}

/// A signed chain head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The chain.
    pub chain_id: String,
    /// The head's sequence number.
    pub seq: u64,
    /// The hash of the event at `seq`.
    pub hash: String,
    /// Which key signed: the first 16 hex digits of the SHA-256 of the raw public key.
    pub key_id: String,
    /// Ed25519 signature (standard base64) over [`Checkpoint::signed_bytes`].
    pub signature: String,
}

/// Writes `value` as canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace,
/// strings and numbers as `serde_json` writes them (integers in decimal; `/` and non-ASCII
/// characters unescaped; `"`, `\` and control characters escaped, with `\n`-style short forms
/// where JSON has them and `\u00XX` otherwise).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    // Writing a `Value` cannot fail: its keys are strings.
    mcp_runtime_canonical_json::to_vec(value).unwrap_or_default()
}

/// The hash of an event (a JSON object): lowercase hex SHA-256 of its canonical JSON.
pub fn event_hash(event: &Value) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        &canonical_json(event),
    ))
}

/// Assigns chain links in order: the state of one chain (one gateway instance).
#[derive(Debug, Clone)]
pub struct Chainer {
    id: String,
    seq: u64,
    head: String,
    source: String,
}

impl Chainer {
    /// A new chain with a fresh UUIDv7 id.
    pub fn new() -> Self {
        Self::with_id(uuid::Uuid::now_v7().to_string())
    }

    /// A new chain with the given id.
    pub fn with_id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            seq: 0,
            head: GENESIS.to_owned(),
            source: String::new(),
        }
    }

    /// The chain id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The last assigned sequence number and the hash of that event (`None` before the first).
    pub fn head(&self) -> Option<(u64, &str)> {
        (self.seq > 0).then_some((self.seq, self.head.as_str()))
    }

    /// The `source` of the last linked event (checkpoints carry it, to show whose chain it is).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Gives `event` the next link and advances the head to its hash.
    pub fn link(&mut self, event: &mut crate::AuditEvent) {
        self.seq += 1;
        event.chain = Some(ChainLink {
            id: self.id.clone(),
            seq: self.seq,
            prev_hash: std::mem::take(&mut self.head),
        });
        // Straight from the event, not through a `Value`: the same bytes as `event_hash` of the
        // event's JSON, at a fraction of the cost (this runs once per audited request).
        self.head = match mcp_runtime_canonical_json::to_vec(&*event) {
            Ok(canonical) => hex::encode(ring::digest::digest(&ring::digest::SHA256, &canonical)),
            // An AuditEvent always serializes; should it not, the next link shows the break.
            Err(_) => GENESIS.to_owned(),
        };
        if self.source != event.source {
            self.source.clone_from(&event.source);
        }
    }

    /// A signed checkpoint of the head, or `None` before the first event.
    pub fn checkpoint(&self, signer: &Signer) -> Option<Checkpoint> {
        let (seq, hash) = self.head()?;
        Some(Checkpoint::sign(&self.id, seq, hash, signer))
    }
}

impl Default for Chainer {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not PEM, or not the expected PEM label.
    #[error("{0}")]
    Format(String),
    /// The key bytes are not an Ed25519 key.
    #[error("not an Ed25519 key: {0}")]
    Rejected(String),
}

/// Decodes the first PEM block labelled `label`.
fn pem_block(text: &str, label: &str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| KeyError::Format(format!("no \"{begin}\" block")))?;
    let body = &text[start + begin.len()..];
    let stop = body
        .find(&end)
        .ok_or_else(|| KeyError::Format(format!("no \"{end}\" line")))?;
    let b64: String = body[..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| KeyError::Format(format!("the {label} block is not base64: {e}")))
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn key_id_of(public: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public);
    hex::encode(&digest.as_ref()[..8])
}

/// An Ed25519 signing key (the gateway's, or `up`'s).
pub struct Signer {
    pair: Ed25519KeyPair,
    key_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Reads a PKCS#8 `PRIVATE KEY` PEM (as `openssl genpkey -algorithm ed25519` writes it).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = pem_block(text, "PRIVATE KEY")?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        let key_id = key_id_of(pair.public_key().as_ref());
        Ok(Self { pair, key_id })
    }

    /// A new random key, as PKCS#8 PEM.
    pub fn generate_pem() -> Result<String, KeyError> {
        let rng = ring::rand::SystemRandom::new();
        let der =
            Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(pem("PRIVATE KEY", der.as_ref()))
    }

    /// The key id checkpoints name.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key, as a `PUBLIC KEY` (SubjectPublicKeyInfo) PEM.
    pub fn public_key_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.pair.public_key().as_ref());
        pem("PUBLIC KEY", &der)
    }

    /// The trusted form of this key's public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_raw(self.pair.public_key().as_ref())
    }

    fn sign(&self, message: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.pair.sign(message).as_ref())
    }
}

/// A trusted Ed25519 public key, given to the verifier from outside the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    raw: Vec<u8>,
    key_id: String,
}

impl PublicKey {
    fn from_raw(raw: &[u8]) -> Self {
        Self {
            raw: raw.to_vec(),
            key_id: key_id_of(raw),
        }
    }

    /// Reads a `PUBLIC KEY` PEM (`openssl pkey -pubout`), or one line of base64 holding the 32
    /// raw key bytes.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let raw = if text.contains("-----BEGIN") {
            let der = pem_block(text, "PUBLIC KEY")?;
            match der.strip_prefix(SPKI_PREFIX.as_slice()) {
                Some(raw) if raw.len() == 32 => raw.to_vec(),
                _ => {
                    return Err(KeyError::Rejected(
                        "the PUBLIC KEY block is not an Ed25519 SubjectPublicKeyInfo".into(),
                    ));
                }
            }
        } else {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| {
                    KeyError::Format(format!(
                        "expected a PUBLIC KEY PEM or the base64 of 32 key bytes: {e}"
                    ))
                })?;
            if raw.len() != 32 {
                return Err(KeyError::Rejected(format!(
                    "{} bytes, an Ed25519 public key has 32",
                    raw.len()
                )));
            }
            raw
        };
        Ok(Self::from_raw(&raw))
    }

    /// The key id checkpoints signed by this key carry.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

/// How a checkpoint's signature checks out against the trusted keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureCheck {
    /// A trusted key verifies it.
    Valid,
    /// No trusted key verifies it.
    Invalid,
    /// No trusted key was given.
    Unchecked,
}

impl Checkpoint {
    /// Signs the head `(chain_id, seq, hash)`.
    pub fn sign(chain_id: &str, seq: u64, hash: &str, signer: &Signer) -> Self {
        let mut checkpoint = Self {
            chain_id: chain_id.to_owned(),
            seq,
            hash: hash.to_owned(),
            key_id: signer.key_id.clone(),
            signature: String::new(),
        };
        checkpoint.signature = signer.sign(&checkpoint.signed_bytes());
        checkpoint
    }

    /// The bytes the signature covers: the canonical JSON of the checkpoint without `signature`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let value = serde_json::json!({
            "chain_id": self.chain_id,
            "seq": self.seq,
            "hash": self.hash,
            "key_id": self.key_id,
        });
        canonical_json(&value)
    }

    /// Checks the signature against the trusted keys.
    pub fn check(&self, keys: &[PublicKey]) -> SignatureCheck {
        if keys.is_empty() {
            return SignatureCheck::Unchecked;
        }
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(&self.signature)
        else {
            return SignatureCheck::Invalid;
        };
        let message = self.signed_bytes();
        let valid = keys.iter().any(|key| {
            signature::UnparsedPublicKey::new(&signature::ED25519, &key.raw)
                .verify(&message, &signature)
                .is_ok()
        });
        if valid {
            SignatureCheck::Valid
        } else {
            SignatureCheck::Invalid
        }
    }
}

/// One stored event of a chain, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The chain position the store files the event under (its `chain_seq` column).
    pub position: u64,
    /// The hash the store computed when it received the event, when it kept one.
    pub ingest_hash: Option<String>,
    /// The event's JSON text as stored.
    pub json: String,
}

/// What is wrong with a stored chain, at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The event's content no longer hashes to what the chain, a checkpoint or the ingest
    /// recorded for it.
    Edited {
        /// Its sequence number.
        seq: u64,
        /// Its `event_id`, when readable.
        event_id: String,
        /// The evidence.
        detail: String,
    },
    /// No event with these sequence numbers is stored (deleted, or lost on the way).
    Missing {
        /// First missing.
        from: u64,
        /// Last missing.
        to: u64,
        /// The evidence.
        detail: String,
    },
    /// The store files an event under another position than the one it carries.
    Reordered {
        /// The position the store files it under.
        position: u64,
        /// The sequence number the event carries.
        seq: u64,
        /// Its `event_id`.
        event_id: String,
        /// The evidence.
        detail: String,
    },
    /// The link between two adjacent events is broken, and nothing tells which one changed.
    BrokenLink {
        /// The later event's sequence number.
        seq: u64,
        /// The evidence.
        detail: String,
    },
    /// Two different events claim the same sequence number.
    Duplicate {
        /// The sequence number.
        seq: u64,
        /// The `event_id`s.
        event_ids: Vec<String>,
    },
    /// A stored event cannot be read as a chained event of this chain.
    Unreadable {
        /// The position the store files it under.
        position: u64,
        /// Why.
        detail: String,
    },
    /// A checkpoint that no trusted key signed.
    BadCheckpoint {
        /// The head it claims.
        seq: u64,
        /// Why.
        detail: String,
    },
}

impl Finding {
    /// The sequence number the finding is about (for sorting and display).
    pub fn seq(&self) -> u64 {
        match self {
            Self::Edited { seq, .. }
            | Self::BrokenLink { seq, .. }
            | Self::Duplicate { seq, .. }
            | Self::BadCheckpoint { seq, .. } => *seq,
            Self::Missing { from, .. } => *from,
            Self::Reordered { position, .. } | Self::Unreadable { position, .. } => *position,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Edited {
                seq,
                event_id,
                detail,
            } => write!(f, "seq {seq}: EDITED (event {event_id}): {detail}"),
            Self::Missing { from, to, detail } if from == to => {
                write!(f, "seq {from}: MISSING: {detail}")
            }
            Self::Missing { from, to, detail } => {
                write!(f, "seq {from}-{to}: MISSING: {detail}")
            }
            Self::Reordered {
                position,
                seq,
                event_id,
                detail,
            } => write!(
                f,
                "seq {position}: REORDERED: filed under seq {position} but is event {event_id} with seq {seq}: {detail}"
            ),
            Self::BrokenLink { seq, detail } => write!(f, "seq {seq}: BROKEN LINK: {detail}"),
            Self::Duplicate { seq, event_ids } => write!(
                f,
                "seq {seq}: DUPLICATE: events {} all claim it",
                event_ids.join(", ")
            ),
            Self::Unreadable { position, detail } => {
                write!(f, "seq {position}: UNREADABLE: {detail}")
            }
            Self::BadCheckpoint { seq, detail } => {
                write!(f, "checkpoint at seq {seq}: BAD SIGNATURE: {detail}")
            }
        }
    }
}

/// The verification of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// The chain.
    pub chain_id: String,
    /// Events examined.
    pub events: u64,
    /// Lowest sequence number examined.
    pub first_seq: Option<u64>,
    /// Highest sequence number examined.
    pub last_seq: Option<u64>,
    /// Checkpoints whose signature a trusted key verifies.
    pub checkpoints_valid: u64,
    /// Highest sequence number a valid checkpoint vouches for, with the events up to it intact.
    pub anchored_seq: Option<u64>,
    /// Checkpoints not checked because no trusted key was given.
    pub checkpoints_unchecked: u64,
    /// Everything wrong, by sequence number.
    pub findings: Vec<Finding>,
}

impl ChainReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

struct Examined {
    seq: u64,
    prev_hash: String,
    hash: String,
    event_id: String,
}

/// Verifies the stored events of one chain (any order; usually a window of it) against their
/// links, the hashes the store recorded at ingest, and the checkpoints signed by `keys`.
///
/// The first event examined is trusted for its `prev_hash` (its predecessor is outside the
/// window) unless it is seq 1, whose `prev_hash` must be [`GENESIS`]. Checkpoints beyond the
/// last stored event reveal a truncated tail.
pub fn verify_chain(
    chain_id: &str,
    stored: &[StoredEvent],
    checkpoints: &[Checkpoint],
    keys: &[PublicKey],
) -> ChainReport {
    let mut findings = Vec::new();
    let ingest_hash_at: HashMap<u64, &str> = stored
        .iter()
        .filter_map(|e| e.ingest_hash.as_deref().map(|h| (e.position, h)))
        .collect();
    // Events by the sequence number they carry (the hashed truth), not by where they are filed.
    let mut by_seq: BTreeMap<u64, Vec<Examined>> = BTreeMap::new();
    let mut flagged: std::collections::HashSet<u64> = std::collections::HashSet::new();
    for event in stored {
        let value: Value = match serde_json::from_str(&event.json) {
            Ok(v) => v,
            Err(e) => {
                findings.push(Finding::Unreadable {
                    position: event.position,
                    detail: format!("not JSON: {e}"),
                });
                flagged.insert(event.position);
                continue;
            }
        };
        let event_id = value["event_id"].as_str().unwrap_or("?").to_owned();
        let link: Option<ChainLink> = serde_json::from_value(value["chain"].clone()).ok();
        let Some(link) = link.filter(|l| l.id == chain_id) else {
            findings.push(Finding::Unreadable {
                position: event.position,
                detail: format!("event {event_id} carries no link of chain {chain_id}"),
            });
            flagged.insert(event.position);
            continue;
        };
        let hash = event_hash(&value);
        if link.seq != event.position {
            let detail = if ingest_hash_at.get(&link.seq) == Some(&hash.as_str()) {
                format!(
                    "its content is intact (it matches what seq {} hashed to at ingest); the store's order was changed",
                    link.seq
                )
            } else {
                "and its content matches no hash recorded at ingest".to_owned()
            };
            findings.push(Finding::Reordered {
                position: event.position,
                seq: link.seq,
                event_id: event_id.clone(),
                detail,
            });
            flagged.insert(link.seq);
        } else if let Some(recorded) = ingest_hash_at.get(&event.position)
            && *recorded != hash
        {
            findings.push(Finding::Edited {
                seq: link.seq,
                event_id: event_id.clone(),
                detail: format!(
                    "its content hashes to {} but hashed to {} when it was received",
                    short(&hash),
                    short(recorded)
                ),
            });
            flagged.insert(link.seq);
        }
        by_seq.entry(link.seq).or_default().push(Examined {
            seq: link.seq,
            prev_hash: link.prev_hash,
            hash,
            event_id,
        });
    }
    for (seq, events) in &by_seq {
        let mut hashes: Vec<&str> = events.iter().map(|e| e.hash.as_str()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        if hashes.len() > 1 {
            findings.push(Finding::Duplicate {
                seq: *seq,
                event_ids: events.iter().map(|e| e.event_id.clone()).collect(),
            });
            flagged.insert(*seq);
        }
    }
    let chain: Vec<&Examined> = by_seq.values().filter_map(|v| v.first()).collect();
    if let Some(first) = chain.first()
        && first.seq == 1
        && first.prev_hash != GENESIS
        && !flagged.contains(&1)
    {
        findings.push(Finding::BrokenLink {
            seq: 1,
            detail: "the first event of the chain does not start from the genesis hash".into(),
        });
    }
    for pair in chain.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        if after.seq > before.seq + 1 {
            findings.push(Finding::Missing {
                from: before.seq + 1,
                to: after.seq - 1,
                detail: format!(
                    "stored events jump from seq {} to {}",
                    before.seq, after.seq
                ),
            });
            continue;
        }
        if after.prev_hash == before.hash {
            continue;
        }
        if flagged.contains(&before.seq) || flagged.contains(&after.seq) {
            // Already reported precisely (edited since ingest, reordered or duplicated).
            continue;
        }
        // The hashes recorded at ingest were rewritten too: only the link tells.
        findings.push(Finding::Edited {
            seq: before.seq,
            event_id: before.event_id.clone(),
            detail: format!(
                "it hashes to {} but seq {} records prev_hash {} (seq {} or the prev_hash of seq {} was changed)",
                short(&before.hash),
                after.seq,
                short(&after.prev_hash),
                before.seq,
                after.seq
            ),
        });
        flagged.insert(before.seq);
    }
    let mut report = ChainReport {
        chain_id: chain_id.to_owned(),
        events: stored.len() as u64,
        first_seq: chain.first().map(|e| e.seq),
        last_seq: chain.last().map(|e| e.seq),
        checkpoints_valid: 0,
        anchored_seq: None,
        checkpoints_unchecked: 0,
        findings: Vec::new(),
    };
    let first_seq = report.first_seq.unwrap_or(1);
    let last_seq = report.last_seq.unwrap_or(0);
    let mut truncated_to = None;
    for checkpoint in checkpoints.iter().filter(|c| c.chain_id == chain_id) {
        match checkpoint.check(keys) {
            SignatureCheck::Unchecked => {
                report.checkpoints_unchecked += 1;
                continue;
            }
            SignatureCheck::Invalid => {
                findings.push(Finding::BadCheckpoint {
                    seq: checkpoint.seq,
                    detail: format!(
                        "no trusted key verifies it (it names key {})",
                        checkpoint.key_id
                    ),
                });
                continue;
            }
            SignatureCheck::Valid => report.checkpoints_valid += 1,
        }
        if checkpoint.seq < first_seq {
            continue;
        }
        if checkpoint.seq > last_seq {
            truncated_to = truncated_to.max(Some(checkpoint.seq));
            continue;
        }
        match by_seq.get(&checkpoint.seq).and_then(|v| v.first()) {
            Some(event) if event.hash == checkpoint.hash => {
                report.anchored_seq = report.anchored_seq.max(Some(checkpoint.seq));
            }
            Some(event) if !flagged.contains(&event.seq) => {
                findings.push(Finding::Edited {
                    seq: event.seq,
                    event_id: event.event_id.clone(),
                    detail: format!(
                        "it hashes to {} but the checkpoint signed by key {} says {}: the chain up to seq {} was rewritten",
                        short(&event.hash),
                        checkpoint.key_id,
                        short(&checkpoint.hash),
                        event.seq
                    ),
                });
                flagged.insert(event.seq);
            }
            // Already reported, or inside the stored range and reported as missing.
            Some(_) | None => {}
        }
    }
    if let Some(to) = truncated_to {
        findings.push(Finding::Missing {
            from: last_seq + 1,
            to,
            detail: format!(
                "a signed checkpoint vouches for seq {to}, beyond the last stored event"
            ),
        });
    }
    // An anchor only counts when nothing before it is wrong.
    if let Some(anchor) = report.anchored_seq
        && findings.iter().any(|f| f.seq() <= anchor)
    {
        report.anchored_seq = None;
    }
    findings.sort_by_key(Finding::seq);
    report.findings = findings;
    report
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{AuditEvent, RequestPayload};
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn event(n: u64) -> AuditEvent {
        AuditEvent::request(RequestPayload {
            server: "files".into(),
            tool_name: Some(format!("tool-{n}")),
            latency_ms: n,
            ..RequestPayload::default()
        })
    }

    fn signer() -> Signer {
        Signer::from_pem(&Signer::generate_pem().unwrap()).unwrap()
    }

    /// A chain of `n` events as a store holds them, and a checkpoint of its head.
    fn stored_chain(n: u64, signer: &Signer) -> (String, Vec<StoredEvent>, Checkpoint) {
        let mut chainer = Chainer::with_id("c1");
        let stored = (1..=n)
            .map(|i| {
                let mut e = event(i);
                chainer.link(&mut e);
                let json = serde_json::to_string(&e).unwrap();
                let hash = event_hash(&serde_json::from_str(&json).unwrap());
                StoredEvent {
                    position: i,
                    ingest_hash: Some(hash),
                    json,
                }
            })
            .collect();
        let checkpoint = chainer.checkpoint(signer).unwrap();
        ("c1".into(), stored, checkpoint)
    }

    fn edit(stored: &mut StoredEvent, f: impl FnOnce(&mut Value)) {
        let mut v: Value = serde_json::from_str(&stored.json).unwrap();
        f(&mut v);
        stored.json = serde_json::to_string(&v).unwrap();
    }

    fn kinds(report: &ChainReport) -> Vec<(String, u64)> {
        report
            .findings
            .iter()
            .map(|f| {
                let v = serde_json::to_value(f).unwrap();
                (v["kind"].as_str().unwrap().to_owned(), f.seq())
            })
            .collect()
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{ "b": 1, "a": {"z": "é/\n", "y": [true, null]} }"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"y":[true,null],"z":"é/\n"},"b":1}"#).unwrap();
        let want = r#"{"a":{"y":[true,null],"z":"é/\n"},"b":1}"#;
        assert_eq!(String::from_utf8(canonical_json(&a)).unwrap(), want);
        assert_eq!(canonical_json(&a), canonical_json(&b));
        // A known vector, so a third-party verifier can check its own implementation.
        assert_eq!(
            event_hash(&json!({"b": 1, "a": "x"})),
            hex::encode(ring::digest::digest(
                &ring::digest::SHA256,
                br#"{"a":"x","b":1}"#
            ))
        );
    }

    #[test]
    fn links_follow_each_other_from_genesis() {
        let mut chainer = Chainer::with_id("c");
        let mut a = event(1);
        let mut b = event(2);
        chainer.link(&mut a);
        chainer.link(&mut b);
        let la = a.chain.clone().unwrap();
        let lb = b.chain.clone().unwrap();
        assert_eq!((la.seq, la.prev_hash.as_str()), (1, GENESIS));
        assert_eq!(lb.seq, 2);
        assert_eq!(lb.prev_hash, event_hash(&serde_json::to_value(&a).unwrap()));
        assert_eq!(
            chainer.head(),
            Some((2, event_hash(&serde_json::to_value(&b).unwrap()).as_str()))
        );
    }

    #[test]
    fn a_clean_chain_verifies_and_is_anchored() {
        let signer = signer();
        let (id, stored, checkpoint) = stored_chain(10, &signer);
        let report = verify_chain(&id, &stored, &[checkpoint], &[signer.public_key()]);
        assert_eq!(report.findings, []);
        assert_eq!(report.anchored_seq, Some(10));
        assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(10)));
        // Any order in, same answer.
        let mut reversed = stored.clone();
        reversed.reverse();
        assert!(verify_chain(&id, &reversed, &[], &[]).is_clean());
    }

    #[test]
    fn an_edited_event_is_named() {
        let signer = signer();
        let (id, mut stored, checkpoint) = stored_chain(10, &signer);
        edit(&mut stored[3], |v| v["payload"]["decision"] = json!("deny"));
        let report = verify_chain(
            &id,
            &stored,
            std::slice::from_ref(&checkpoint),
            &[signer.public_key()],
        );
        assert_eq!(kinds(&report), [("edited".to_owned(), 4)]);
        assert_eq!(report.anchored_seq, None);
        // With the ingest hash rewritten too, the link to seq 5 still names seq 4.
        let mut v: Value = serde_json::from_str(&stored[3].json).unwrap();
        stored[3].ingest_hash = Some(event_hash(&v));
        let report = verify_chain(&id, &stored, &[], &[]);
        assert_eq!(kinds(&report), [("edited".to_owned(), 4)]);
        // Editing the last event is only caught by the checkpoint (or the ingest hash).
        let (id, mut stored, checkpoint) = stored_chain(5, &signer);
        edit(&mut stored[4], |v| v["payload"]["status"] = json!(500));
        v = serde_json::from_str(&stored[4].json).unwrap();
        stored[4].ingest_hash = Some(event_hash(&v));
        assert!(verify_chain(&id, &stored, &[], &[]).is_clean());
        let report = verify_chain(&id, &stored, &[checkpoint], &[signer.public_key()]);
        assert_eq!(kinds(&report), [("edited".to_owned(), 5)]);
    }

    #[test]
    fn a_removed_event_is_missing() {
        let signer = signer();
        let (id, mut stored, checkpoint) = stored_chain(10, &signer);
        stored.remove(6);
        let report = verify_chain(&id, &stored, &[], &[]);
        assert_eq!(kinds(&report), [("missing".to_owned(), 7)]);
        // A truncated tail shows against the checkpoint.
        stored.truncate(5);
        let report = verify_chain(&id, &stored, &[checkpoint], &[signer.public_key()]);
        assert_eq!(report.findings.len(), 1);
        assert!(
            matches!(
                report.findings[0],
                Finding::Missing {
                    from: 6,
                    to: 10,
                    ..
                }
            ),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn swapped_events_are_reordered_and_swapped_payloads_edited() {
        let (id, stored, _) = stored_chain(8, &signer());
        let mut swapped = stored.clone();
        let (a, b) = (swapped[4].json.clone(), swapped[5].json.clone());
        swapped[4].json = b;
        swapped[5].json = a;
        let report = verify_chain(&id, &swapped, &[], &[]);
        assert_eq!(
            kinds(&report),
            [("reordered".to_owned(), 5), ("reordered".to_owned(), 6)]
        );
        let mut swapped = stored;
        let p5: Value = serde_json::from_str::<Value>(&swapped[4].json).unwrap()["payload"].clone();
        let p6: Value = serde_json::from_str::<Value>(&swapped[5].json).unwrap()["payload"].clone();
        edit(&mut swapped[4], |v| v["payload"] = p6);
        edit(&mut swapped[5], |v| v["payload"] = p5);
        let report = verify_chain(&id, &swapped, &[], &[]);
        assert_eq!(
            kinds(&report),
            [("edited".to_owned(), 5), ("edited".to_owned(), 6)]
        );
    }

    #[test]
    fn a_rewritten_chain_is_caught_by_the_checkpoint_only() {
        let signer = signer();
        let (id, stored, checkpoint) = stored_chain(6, &signer);
        // Rebuild the chain from seq 3 on with one event changed, hashes and all.
        let mut chainer = Chainer::with_id("c1");
        let mut rewritten = Vec::new();
        for (i, s) in stored.iter().enumerate() {
            let mut e: AuditEvent = serde_json::from_str(&s.json).unwrap();
            if i == 2 {
                e.payload.as_mut().unwrap().status = 999;
            }
            chainer.link(&mut e);
            let json = serde_json::to_string(&e).unwrap();
            let hash = event_hash(&serde_json::from_str(&json).unwrap());
            rewritten.push(StoredEvent {
                position: s.position,
                ingest_hash: Some(hash),
                json,
            });
        }
        assert!(verify_chain(&id, &rewritten, &[], &[]).is_clean());
        let report = verify_chain(
            &id,
            &rewritten,
            std::slice::from_ref(&checkpoint),
            &[signer.public_key()],
        );
        assert_eq!(kinds(&report), [("edited".to_owned(), 6)]);
        // A forged checkpoint (another key) does not vouch for the rewrite.
        let forged = chainer.checkpoint(&self::signer()).unwrap();
        let report = verify_chain(&id, &rewritten, &[forged], &[signer.public_key()]);
        assert_eq!(kinds(&report), [("bad_checkpoint".to_owned(), 6)]);
        // Without a trusted key, checkpoints are counted as unchecked, never trusted.
        let report = verify_chain(&id, &rewritten, &[checkpoint], &[]);
        assert_eq!(report.checkpoints_unchecked, 1);
        assert!(report.is_clean());
    }

    #[test]
    fn keys_round_trip_through_pem_and_base64() {
        let signer = signer();
        let pem = signer.public_key_pem();
        let key = PublicKey::parse(&pem).unwrap();
        assert_eq!(key, signer.public_key());
        assert_eq!(key.key_id(), signer.key_id());
        let raw = base64::engine::general_purpose::STANDARD.encode(&key.raw);
        assert_eq!(PublicKey::parse(&raw).unwrap(), key);
        assert!(PublicKey::parse("bm90IGEga2V5").is_err());
        assert!(
            Signer::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
        // openssl genpkey -algorithm ed25519 (PKCS#8 v1, no public key inside).
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGQtY6ql5Q3Yp6wqKHU7yBXpqYVb0j0PnQJ5KHn0sZ4Y\n-----END PRIVATE KEY-----\n";
        assert!(Signer::from_pem(openssl).is_ok());
    }

    #[test]
    fn hashing_cost_per_event() {
        // The sink's worker links every event: note what that costs (not a pass/fail figure).
        let mut chainer = Chainer::new();
        let mut events: Vec<AuditEvent> = (0..20_000).map(event).collect();
        let start = std::time::Instant::now();
        for e in &mut events {
            chainer.link(e);
        }
        let per_event = start.elapsed() / 20_000;
        eprintln!("chain link (serialize + canonical JSON + SHA-256): {per_event:?} per event");
        assert_eq!(chainer.head().map(|h| h.0), Some(20_000));
    }
}
