//! What policy replay (`mcp-runtime access simulate`) reads from the store: the inputs of each
//! recorded tool-call decision, streamed in batches so a million rows never sit in memory at once.
//!
//! The evaluator's inputs are the caller (human, agent, team), the presented session, the method,
//! the tool and the time. The first three were always stored except the caller's team
//! (`payload.subject_team_id`, only in the event JSON); [`migration`] adds it as a column, with the
//! trust inputs the decision saw (matched grant and session, the tool's required trust and side
//! effect), and fills them for events stored before it.

use super::{Dialect, StoreError};

/// The columns [`migration`] adds, each `TEXT NOT NULL DEFAULT ''`, with the payload path each is
/// filled from.
pub(crate) const ADDED_COLUMNS: [(&str, &str); 3] = [
    ("subject_team_id", "subject_team_id"),
    ("required_trust", "required_trust"),
    ("required_side_effect", "required_side_effect"),
];

/// The columns that hold a matched object as `namespace/name`, with the payload fields they are
/// built from.
pub(crate) const ADDED_OBJECT_COLUMNS: [(&str, &str, &str); 2] = [
    ("matched_grant", "matched_grant_namespace", "matched_grant"),
    (
        "matched_session",
        "matched_session_namespace",
        "matched_session",
    ),
];

/// The stored replay inputs of one event, beyond the columns every event already had.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayColumns {
    /// `payload.subject_team_id`: the caller's team (`team_id` is the server's).
    pub subject_team_id: String,
    /// `namespace/name` of the grant the decision matched, empty when none.
    pub matched_grant: String,
    /// `namespace/name` of the session the decision matched, empty when none.
    pub matched_session: String,
    /// `payload.required_trust`: the trust the tool required, as the policy saw it.
    pub required_trust: String,
    /// `payload.required_side_effect`: the tool's side effect, as the policy saw it.
    pub required_side_effect: String,
}

impl ReplayColumns {
    /// The replay columns of an audit payload.
    pub fn of(payload: &mcp_runtime_audit::RequestPayload) -> Self {
        let object = |namespace: &Option<String>, name: &Option<String>| match (namespace, name) {
            (_, None) => String::new(),
            (Some(namespace), Some(name)) if !namespace.is_empty() => format!("{namespace}/{name}"),
            (_, Some(name)) => name.clone(),
        };
        Self {
            subject_team_id: payload.subject_team_id.clone(),
            matched_grant: object(&payload.matched_grant_namespace, &payload.matched_grant),
            matched_session: object(&payload.matched_session_namespace, &payload.matched_session),
            required_trust: payload.required_trust.clone().unwrap_or_default(),
            required_side_effect: payload.required_side_effect.clone().unwrap_or_default(),
        }
    }
}

/// The schema migration that adds the replay columns and fills them from the stored JSON.
pub(crate) fn migration(dialect: Dialect) -> String {
    let field = |path: &str| match dialect {
        Dialect::Sqlite => format!("COALESCE(json_extract(event, '$.payload.{path}'), '')"),
        Dialect::Postgres => format!("COALESCE(event::jsonb #>> '{{payload,{path}}}', '')"),
    };
    let mut sql = String::new();
    let mut fills = Vec::new();
    for (column, path) in ADDED_COLUMNS {
        sql.push_str(&format!(
            "ALTER TABLE events ADD COLUMN {column} TEXT NOT NULL DEFAULT '';\n"
        ));
        fills.push(format!("{column} = {}", field(path)));
    }
    for (column, namespace, name) in ADDED_OBJECT_COLUMNS {
        sql.push_str(&format!(
            "ALTER TABLE events ADD COLUMN {column} TEXT NOT NULL DEFAULT '';\n"
        ));
        let (namespace, name) = (field(namespace), field(name));
        fills.push(format!(
            "{column} = CASE WHEN {name} = '' THEN '' WHEN {namespace} = '' THEN {name} \
             ELSE {namespace} || '/' || {name} END"
        ));
    }
    // Only tool calls are replayed, so only they are filled.
    sql.push_str(&format!(
        "UPDATE events SET {} WHERE rpc_method IN ('tools/call', 'call_tool');\n",
        fills.join(", ")
    ));
    sql
}

/// The replayed columns, in [`DecisionBatch`] field order after `event_id`.
const TEXT_FIELDS: usize = 14;

/// The read query of [`crate::Store::scan_decisions`]: every `mcp.request` tool call in
/// `[from, to)`. No ORDER BY: replay does not depend on order, and a sort would hold every row.
pub(crate) fn scan_sql(dialect: Dialect) -> String {
    format!(
        "SELECT ts, event_id, namespace, server, human_id, agent_id, subject_team_id, session_id, \
         rpc_method, tool_name, decision, reason, matched_grant, matched_session, required_trust, \
         required_side_effect FROM events WHERE ts >= {} AND ts < {} AND event_type = 'mcp.request' \
         AND rpc_method IN ('tools/call', 'call_tool')",
        dialect.placeholder(1),
        dialect.placeholder(2)
    )
}

/// Rows read per batch.
pub const BATCH_ROWS: usize = 4096;

/// A batch of recorded decisions: every text field of every row in one buffer, so a batch costs
/// two allocations however many rows it holds.
#[derive(Debug, Clone, Default)]
pub struct DecisionBatch {
    text: String,
    rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    ts_ns: i64,
    start: usize,
    /// End offset of each text field in `text`.
    ends: [u32; TEXT_FIELDS + 1],
}

/// One recorded decision, borrowed from its [`DecisionBatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedDecision<'a> {
    /// Event time, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// The event's id.
    pub event_id: &'a str,
    /// The MCPServer's namespace.
    pub namespace: &'a str,
    /// The MCPServer.
    pub server: &'a str,
    /// The caller's human identity.
    pub human_id: &'a str,
    /// The caller's agent identity.
    pub agent_id: &'a str,
    /// The caller's team.
    pub team_id: &'a str,
    /// The session id presented.
    pub session_id: &'a str,
    /// The JSON-RPC method.
    pub rpc_method: &'a str,
    /// The tool called.
    pub tool_name: &'a str,
    /// `allow` or `deny`.
    pub decision: &'a str,
    /// The reason code.
    pub reason: &'a str,
    /// `namespace/name` of the matched grant, or empty.
    pub matched_grant: &'a str,
    /// `namespace/name` of the matched session, or empty.
    pub matched_session: &'a str,
    /// The trust the tool required.
    pub required_trust: &'a str,
    /// The tool's side effect.
    pub required_side_effect: &'a str,
}

impl DecisionBatch {
    /// An empty batch with room for [`BATCH_ROWS`] rows.
    pub fn new() -> Self {
        Self {
            text: String::with_capacity(BATCH_ROWS * 160),
            rows: Vec::with_capacity(BATCH_ROWS),
        }
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the batch holds no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Appends a row: the time, then the event id and the text fields in [`RecordedDecision`]
    /// order.
    pub fn push(&mut self, ts_ns: i64, fields: [&str; TEXT_FIELDS + 1]) -> Result<(), StoreError> {
        let start = self.text.len();
        let mut ends = [0u32; TEXT_FIELDS + 1];
        for (end, field) in ends.iter_mut().zip(fields) {
            self.text.push_str(field);
            *end = u32::try_from(self.text.len() - start)
                .map_err(|_| StoreError::Config("a recorded event is larger than 4 GiB".into()))?;
        }
        self.rows.push(Row { ts_ns, start, ends });
        Ok(())
    }

    /// The rows, in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = RecordedDecision<'_>> {
        self.rows.iter().map(|row| {
            let base = &self.text[row.start..];
            let mut fields = [""; TEXT_FIELDS + 1];
            let mut from = 0usize;
            for (field, end) in fields.iter_mut().zip(row.ends) {
                let end = end as usize;
                *field = base.get(from..end).unwrap_or_default();
                from = end;
            }
            let [
                event_id,
                namespace,
                server,
                human_id,
                agent_id,
                team_id,
                session_id,
                rpc_method,
                tool_name,
                decision,
                reason,
                matched_grant,
                matched_session,
                required_trust,
                required_side_effect,
            ] = fields;
            RecordedDecision {
                ts_ns: row.ts_ns,
                event_id,
                namespace,
                server,
                human_id,
                agent_id,
                team_id,
                session_id,
                rpc_method,
                tool_name,
                decision,
                reason,
                matched_grant,
                matched_session,
                required_trust,
                required_side_effect,
            }
        })
    }
}

impl RecordedDecision<'_> {
    /// The text fields in [`DecisionBatch::push`] order.
    pub fn fields(&self) -> [&str; TEXT_FIELDS + 1] {
        [
            self.event_id,
            self.namespace,
            self.server,
            self.human_id,
            self.agent_id,
            self.team_id,
            self.session_id,
            self.rpc_method,
            self.tool_name,
            self.decision,
            self.reason,
            self.matched_grant,
            self.matched_session,
            self.required_trust,
            self.required_side_effect,
        ]
    }
}

/// The receiving end of [`crate::Store::scan_decisions`]: batches until the scan ends (the channel
/// closes), or an error.
pub type DecisionStream = tokio::sync::mpsc::Receiver<Result<DecisionBatch, StoreError>>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_batch_gives_back_every_field_of_every_row() {
        let mut batch = DecisionBatch::new();
        let first = [
            "e1",
            "ns",
            "files",
            "alice",
            "claude",
            "team-a",
            "s1",
            "tools/call",
            "read",
            "allow",
            "allowed",
            "ns/g",
            "ns/s1",
            "low",
            "read",
        ];
        let second = [
            "e2",
            "ns",
            "files",
            "",
            "",
            "",
            "",
            "tools/call",
            "write",
            "deny",
            "trust_too_low",
            "",
            "",
            "high",
            "write",
        ];
        batch.push(7, first).unwrap();
        batch.push(-1, second).unwrap();
        let rows: Vec<_> = batch.iter().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].ts_ns, rows[0].fields()), (7, first));
        assert_eq!((rows[1].ts_ns, rows[1].fields()), (-1, second));
        assert_eq!(rows[1].reason, "trust_too_low");
    }
}
