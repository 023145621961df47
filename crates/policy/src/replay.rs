//! Replay: recorded tool-call decisions through proposed policies, to see which would change.
//!
//! Pure: the caller streams the recorded decisions in ([`Replay::record`]) and gets a
//! [`ReplayReport`] back. Each decision is re-taken by [`CompiledPolicy::evaluate`], the
//! gateway's own evaluator, on the recorded inputs (caller, presented session, method, tool,
//! time) and compared with the recorded verdict.
//!
//! Replay is fast because the evaluator is pure: the same inputs give the same decision. Strings
//! are interned, and each distinct input tuple is evaluated once. Time enters a decision only
//! through grant and session expiries, so the tuple holds the interval between consecutive expiry
//! instants ([`CompiledPolicy::expiry_instants`]) instead of the timestamp itself.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;

use crate::evaluate::{CompiledPolicy, Identity, Request};
use crate::reason::{Reason, Stage};

/// Examples kept per group of changed decisions.
pub const EXAMPLES_PER_GROUP: usize = 3;

/// One recorded decision, as the audit trail stored it. Empty strings mean absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordedDecision<'a> {
    /// The event's id.
    pub event_id: &'a str,
    /// When it was decided, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
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
    /// The session id the caller presented.
    pub session_id: &'a str,
    /// The JSON-RPC method (`tools/call`).
    pub rpc_method: &'a str,
    /// The tool.
    pub tool_name: &'a str,
    /// Whether it was allowed.
    pub allowed: bool,
    /// The recorded reason code.
    pub reason: &'a str,
    /// `namespace/name` of the grant the recorded decision matched.
    pub matched_grant: &'a str,
    /// `namespace/name` of the session the recorded decision matched.
    pub matched_session: &'a str,
    /// The trust the tool required, as the recorded decision saw it.
    pub required_trust: &'a str,
    /// The tool's side effect, as the recorded decision saw it.
    pub required_side_effect: &'a str,
}

/// Which way a decision changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Allowed then, denied under the proposal.
    AllowToDeny,
    /// Denied then, allowed under the proposal.
    DenyToAllow,
}

impl Change {
    /// `allow→deny` or `deny→allow`.
    pub fn arrow(self) -> &'static str {
        match self {
            Change::AllowToDeny => "allow→deny",
            Change::DenyToAllow => "deny→allow",
        }
    }
}

/// Changed decisions that share server, tool, agent and reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeGroup {
    /// Which way they changed.
    pub change: Change,
    /// The MCPServer's namespace.
    pub namespace: String,
    /// The MCPServer.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The caller's agent identity (empty when none).
    pub agent: String,
    /// The recorded reason.
    pub recorded_reason: String,
    /// The reason under the proposal.
    pub reason: Reason,
    /// How many recorded decisions changed this way.
    pub count: u64,
    /// The first few of them.
    pub examples: Vec<Example>,
}

/// One changed decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    /// The event's id.
    pub event_id: String,
    /// When it was decided (RFC 3339).
    pub timestamp: String,
    /// The caller's human identity.
    pub human_id: String,
    /// The caller's team.
    pub team_id: String,
    /// The session presented.
    pub session_id: String,
    /// The grant the recorded decision matched.
    pub recorded_grant: String,
    /// The trust the tool required, as recorded.
    pub recorded_required_trust: String,
    /// The tool's side effect, as recorded.
    pub recorded_side_effect: String,
    /// The grant the proposal's decision matched (`namespace/name`), if any.
    pub grant: Option<String>,
}

/// What replay found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Recorded decisions read.
    pub read: u64,
    /// Recorded decisions re-taken by the evaluator.
    pub replayed: u64,
    /// Distinct inputs among them: the evaluator ran this many times.
    pub evaluations: u64,
    /// Replayed decisions that came out the same.
    pub unchanged: u64,
    /// Allowed then, denied now.
    pub new_denies: u64,
    /// Denied then, allowed now.
    pub new_allows: u64,
    /// The changes, largest group first.
    pub changes: Vec<ChangeGroup>,
    /// Recorded decisions of servers the proposal does not have, by `namespace/server`.
    pub servers_not_in_proposal: BTreeMap<String, u64>,
    /// Recorded decisions the evaluator did not take (authentication, inspection, an
    /// unavailable policy…): replaying them through a new policy would change nothing, by reason.
    pub not_policy_decisions: BTreeMap<String, u64>,
}

/// Interned string id.
type Id = u32;

#[derive(Default)]
struct Interner {
    ids: HashMap<Box<str>, Id>,
    names: Vec<Box<str>>,
}

impl Interner {
    fn id(&mut self, value: &str) -> Id {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = Id::try_from(self.names.len()).unwrap_or(Id::MAX);
        self.ids.insert(value.into(), id);
        self.names.push(value.into());
        id
    }

    fn name(&self, id: Id) -> &str {
        self.names.get(id as usize).map_or("", |name| name)
    }
}

/// A proposed policy and the expiry instants that split its time line.
struct Proposed {
    policy: CompiledPolicy,
    expiries: Vec<Timestamp>,
}

/// Everything the evaluator reads: policy, caller, session, method, tool, expiry interval.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Inputs {
    policy: u32,
    human: Id,
    agent: Id,
    team: Id,
    session: Id,
    method: Id,
    tool: Id,
    interval: u32,
}

#[derive(Clone, Copy)]
struct Outcome {
    allowed: bool,
    reason: Reason,
    grant: Option<Id>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct GroupKey {
    change: Change,
    policy: u32,
    tool: Id,
    agent: Id,
    recorded_reason: Id,
    reason: Reason,
}

struct Group {
    count: u64,
    examples: Vec<Example>,
}

/// A replay in progress: feed it recorded decisions, then [`Replay::finish`].
pub struct Replay {
    proposed: Vec<Proposed>,
    /// `(namespace, server)` → index into `proposed`.
    by_server: HashMap<(Box<str>, Box<str>), u32>,
    strings: Interner,
    outcomes: HashMap<Inputs, Outcome>,
    groups: HashMap<GroupKey, Group>,
    report: ReplayReport,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("policies", &self.proposed.len())
            .field("evaluations", &self.outcomes.len())
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// A replay against these proposed policies, one per server (the document's
    /// `server.namespace`/`server.name` say which).
    pub fn new(policies: impl IntoIterator<Item = CompiledPolicy>) -> Self {
        let mut replay = Replay {
            proposed: Vec::new(),
            by_server: HashMap::new(),
            strings: Interner::default(),
            outcomes: HashMap::new(),
            groups: HashMap::new(),
            report: ReplayReport::default(),
        };
        for policy in policies {
            let server = &policy.document().server;
            let key = (
                Box::<str>::from(server.namespace.as_str()),
                Box::<str>::from(server.name.as_str()),
            );
            let index = u32::try_from(replay.proposed.len()).unwrap_or(u32::MAX);
            replay.by_server.insert(key, index);
            replay.proposed.push(Proposed {
                expiries: policy.expiry_instants(),
                policy,
            });
        }
        replay
    }

    /// Replays one recorded decision.
    pub fn record(&mut self, recorded: &RecordedDecision<'_>) {
        self.report.read += 1;
        let evaluator_decided = Reason::from_code(recorded.reason).is_some_and(|reason| {
            matches!(
                reason.stage(),
                Stage::EvaluatorIdentity | Stage::EvaluatorPolicy
            )
        });
        if !evaluator_decided || !crate::is_tool_call_method(recorded.rpc_method) {
            *self
                .report
                .not_policy_decisions
                .entry(recorded.reason.to_owned())
                .or_default() += 1;
            return;
        }
        let Some(&policy) = self
            .by_server
            .get(&(recorded.namespace.into(), recorded.server.into()))
        else {
            *self
                .report
                .servers_not_in_proposal
                .entry(format!("{}/{}", recorded.namespace, recorded.server))
                .or_default() += 1;
            return;
        };
        self.report.replayed += 1;
        let at = Timestamp::from_nanosecond(i128::from(recorded.ts_ns)).unwrap_or_default();
        let proposed = &self.proposed[policy as usize];
        let inputs = Inputs {
            policy,
            human: self.strings.id(recorded.human_id),
            agent: self.strings.id(recorded.agent_id),
            team: self.strings.id(recorded.team_id),
            session: self.strings.id(recorded.session_id),
            method: self.strings.id(recorded.rpc_method),
            tool: self.strings.id(recorded.tool_name),
            interval: u32::try_from(proposed.expiries.partition_point(|expiry| *expiry <= at))
                .unwrap_or(u32::MAX),
        };
        let outcome = match self.outcomes.get(&inputs) {
            Some(outcome) => *outcome,
            None => {
                let outcome = evaluate(&proposed.policy, recorded, at, &mut self.strings);
                self.outcomes.insert(inputs, outcome);
                outcome
            }
        };
        let change = match (recorded.allowed, outcome.allowed) {
            (true, false) => Change::AllowToDeny,
            (false, true) => Change::DenyToAllow,
            _ => {
                self.report.unchanged += 1;
                return;
            }
        };
        match change {
            Change::AllowToDeny => self.report.new_denies += 1,
            Change::DenyToAllow => self.report.new_allows += 1,
        }
        let key = GroupKey {
            change,
            policy,
            tool: inputs.tool,
            agent: inputs.agent,
            recorded_reason: self.strings.id(recorded.reason),
            reason: outcome.reason,
        };
        let group = self.groups.entry(key).or_insert(Group {
            count: 0,
            examples: Vec::new(),
        });
        group.count += 1;
        if group.examples.len() < EXAMPLES_PER_GROUP {
            group.examples.push(Example {
                event_id: recorded.event_id.to_owned(),
                timestamp: at.to_string(),
                human_id: recorded.human_id.to_owned(),
                team_id: recorded.team_id.to_owned(),
                session_id: recorded.session_id.to_owned(),
                recorded_grant: recorded.matched_grant.to_owned(),
                recorded_required_trust: recorded.required_trust.to_owned(),
                recorded_side_effect: recorded.required_side_effect.to_owned(),
                grant: outcome.grant.map(|id| self.strings.name(id).to_owned()),
            });
        }
    }

    /// The report: changes grouped, largest group first (ties in name order).
    pub fn finish(mut self) -> ReplayReport {
        self.report.evaluations = u64::try_from(self.outcomes.len()).unwrap_or(u64::MAX);
        let strings = &self.strings;
        let proposed = &self.proposed;
        let mut changes: Vec<ChangeGroup> = self
            .groups
            .into_iter()
            .map(|(key, group)| {
                let server = &proposed[key.policy as usize].policy.document().server;
                ChangeGroup {
                    change: key.change,
                    namespace: server.namespace.clone(),
                    server: server.name.clone(),
                    tool: strings.name(key.tool).to_owned(),
                    agent: strings.name(key.agent).to_owned(),
                    recorded_reason: strings.name(key.recorded_reason).to_owned(),
                    reason: key.reason,
                    count: group.count,
                    examples: group.examples,
                }
            })
            .collect();
        changes.sort_by(|a, b| {
            b.count.cmp(&a.count).then_with(|| {
                (
                    a.change,
                    &a.namespace,
                    &a.server,
                    &a.tool,
                    &a.agent,
                    a.reason.as_str(),
                )
                    .cmp(&(
                        b.change,
                        &b.namespace,
                        &b.server,
                        &b.tool,
                        &b.agent,
                        b.reason.as_str(),
                    ))
            })
        });
        self.report.changes = changes;
        self.report
    }
}

/// The proposal's decision for a recorded request, at its recorded time.
fn evaluate(
    policy: &CompiledPolicy,
    recorded: &RecordedDecision<'_>,
    at: Timestamp,
    strings: &mut Interner,
) -> Outcome {
    fn present(value: &str) -> Option<&str> {
        (!value.is_empty()).then_some(value)
    }
    let identity = Identity {
        human_id: present(recorded.human_id),
        agent_id: present(recorded.agent_id),
        team_id: present(recorded.team_id),
    };
    let request = Request {
        identity,
        session_id: present(recorded.session_id),
        rpc_method: recorded.rpc_method,
        tool_name: Some(recorded.tool_name),
        now: at,
    };
    let decision = policy.evaluate(&request);
    Outcome {
        allowed: decision.allowed,
        reason: decision.reason,
        grant: decision
            .matched_grant
            .map(|grant| strings.id(&format!("{}/{}", grant.namespace, grant.name))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Grant, PolicyDocument, SideEffect, Tool, Trust};
    use pretty_assertions::assert_eq;

    const HOUR_NS: i64 = 3_600_000_000_000;

    fn policy(max_trust: Trust, grant_expires_at: &str) -> CompiledPolicy {
        let mut document = PolicyDocument::default();
        document.server.name = "files".into();
        document.server.namespace = "tools".into();
        document
            .tools
            .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
        document
            .tools
            .push(Tool::new("write_file", SideEffect::Write, Trust::Medium));
        let mut grant = Grant::new("tools", "claude");
        grant.agent_id = "claude".into();
        grant.max_trust = max_trust.into();
        grant.allowed_side_effects = vec![SideEffect::Read.into(), SideEffect::Write.into()];
        grant.expires_at = grant_expires_at.into();
        document.grants.push(grant);
        document.finalize(Timestamp::UNIX_EPOCH).unwrap();
        CompiledPolicy::new(document).unwrap()
    }

    fn call<'a>(
        event_id: &'a str,
        tool: &'a str,
        ts_ns: i64,
        allowed: bool,
    ) -> RecordedDecision<'a> {
        RecordedDecision {
            event_id,
            ts_ns,
            namespace: "tools",
            server: "files",
            agent_id: "claude",
            rpc_method: "tools/call",
            tool_name: tool,
            allowed,
            reason: if allowed { "allowed" } else { "trust_too_low" },
            ..RecordedDecision::default()
        }
    }

    fn replay(policy: CompiledPolicy, calls: &[RecordedDecision<'_>]) -> ReplayReport {
        let mut replay = Replay::new([policy]);
        for call in calls {
            replay.record(call);
        }
        replay.finish()
    }

    fn flipped(report: &ReplayReport) -> Vec<(Change, String, Reason, Vec<String>)> {
        report
            .changes
            .iter()
            .map(|g| {
                (
                    g.change,
                    g.tool.clone(),
                    g.reason,
                    g.examples.iter().map(|e| e.event_id.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_tightened_grant_flips_exactly_the_calls_it_no_longer_covers() {
        let calls = [
            call("r1", "read_file", 0, true),
            call("w1", "write_file", 1, true),
            call("w2", "write_file", 2, true),
            call("r2", "read_file", 3, true),
        ];
        let report = replay(policy(Trust::Low, ""), &calls);
        assert_eq!(
            flipped(&report),
            [(
                Change::AllowToDeny,
                "write_file".to_owned(),
                Reason::TrustTooLow,
                vec!["w1".to_owned(), "w2".to_owned()]
            )]
        );
        assert_eq!(
            (
                report.replayed,
                report.unchanged,
                report.new_denies,
                report.new_allows
            ),
            (4, 2, 2, 0)
        );
        // Two distinct inputs: each tool once.
        assert_eq!(report.evaluations, 2);
        assert_eq!(
            report.changes[0].examples[0].grant.as_deref(),
            Some("tools/claude")
        );
    }

    #[test]
    fn the_live_policy_flips_nothing_and_a_loosened_one_flips_denials() {
        let calls = [
            call("r1", "read_file", 0, true),
            call("w1", "write_file", 1, true),
        ];
        let report = replay(policy(Trust::Medium, ""), &calls);
        assert!(report.changes.is_empty(), "{report:?}");
        assert_eq!(report.unchanged, 2);
        let denied = [call("w1", "write_file", 1, false)];
        let report = replay(policy(Trust::Medium, ""), &denied);
        assert_eq!(
            flipped(&report),
            [(
                Change::DenyToAllow,
                "write_file".to_owned(),
                Reason::Allowed,
                vec!["w1".to_owned()]
            )]
        );
    }

    #[test]
    fn each_call_is_decided_at_its_recorded_time() {
        // The grant expires at 01:00: the call before stays allowed, the one after flips.
        let expires = "1970-01-01T01:00:00Z";
        let calls = [
            call("before", "read_file", HOUR_NS - 1, true),
            call("at", "read_file", HOUR_NS, true),
            call("after", "read_file", 2 * HOUR_NS, true),
        ];
        let report = replay(policy(Trust::Medium, expires), &calls);
        assert_eq!(
            flipped(&report),
            [(
                Change::AllowToDeny,
                "read_file".to_owned(),
                Reason::GrantExpired,
                vec!["at".to_owned(), "after".to_owned()]
            )]
        );
        // One evaluation per side of the expiry, not one per call.
        assert_eq!(report.evaluations, 2);
    }

    #[test]
    fn decisions_the_evaluator_did_not_take_and_unknown_servers_are_counted_apart() {
        let mut auth = call("a", "read_file", 0, false);
        auth.reason = "invalid_token";
        let mut listing = call("l", "", 0, true);
        listing.rpc_method = "tools/list";
        let mut elsewhere = call("o", "read_file", 0, true);
        elsewhere.server = "other";
        let report = replay(policy(Trust::Low, ""), &[auth, listing, elsewhere]);
        assert_eq!(report.read, 3);
        assert_eq!(report.replayed, 0);
        assert_eq!(
            report.not_policy_decisions,
            BTreeMap::from([("invalid_token".to_owned(), 1), ("allowed".to_owned(), 1)])
        );
        assert_eq!(
            report.servers_not_in_proposal,
            BTreeMap::from([("tools/other".to_owned(), 1)])
        );
    }
}
