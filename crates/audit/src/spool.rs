//! The disk spool: append-only JSON-lines segment files named
//! `spool-<seq>.jsonl`, replayed in sequence order, bounded in total bytes.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::event::AuditEvent;

const PREFIX: &str = "spool-";
const SUFFIX: &str = ".jsonl";

#[derive(Debug)]
struct Segment {
    seq: u64,
    path: PathBuf,
    bytes: u64,
}

/// Result of appending events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Appended {
    pub(crate) written: u64,
    pub(crate) dropped: u64,
}

#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    segment_max_bytes: u64,
    total_bytes: u64,
    next_seq: u64,
    /// Sealed segments, oldest first; the open one (if any) is last.
    segments: VecDeque<Segment>,
    /// The segment being appended to (always the last of `segments`).
    open: Option<File>,
}

impl Spool {
    /// Opens (creating if needed) the spool directory and indexes existing segments.
    pub(crate) fn open(dir: &Path, max_bytes: u64, segment_max_bytes: u64) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(seq) = name
                .strip_prefix(PREFIX)
                .and_then(|s| s.strip_suffix(SUFFIX))
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            let bytes = entry.metadata()?.len();
            segments.push(Segment {
                seq,
                path: entry.path(),
                bytes,
            });
        }
        segments.sort_by_key(|s| s.seq);
        let next_seq = segments.last().map_or(0, |s| s.seq + 1);
        let total_bytes = segments.iter().map(|s| s.bytes).sum();
        Ok(Self {
            dir: dir.to_path_buf(),
            max_bytes,
            segment_max_bytes: segment_max_bytes.max(1),
            total_bytes,
            next_seq,
            segments: segments.into(),
            open: None,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Appends events in order. Events that do not fit in the byte bound (or
    /// cannot be written) are dropped and reported in [`Appended::dropped`].
    pub(crate) fn append(&mut self, events: &[AuditEvent]) -> Appended {
        let mut out = Appended::default();
        for ev in events {
            let mut line = match serde_json::to_vec(ev) {
                Ok(l) => l,
                Err(err) => {
                    tracing::warn!(%err, "audit spool: cannot serialize event");
                    out.dropped += 1;
                    continue;
                }
            };
            line.push(b'\n');
            let len = line.len() as u64;
            if self.total_bytes.saturating_add(len) > self.max_bytes {
                out.dropped += 1;
                continue;
            }
            match self.write_line(&line) {
                Ok(()) => {
                    self.total_bytes += len;
                    if let Some(seg) = self.segments.back_mut() {
                        seg.bytes += len;
                    }
                    out.written += 1;
                }
                Err(err) => {
                    tracing::warn!(%err, dir = %self.dir.display(), "audit spool: write failed");
                    self.open = None;
                    out.dropped += 1;
                }
            }
        }
        if let Some(f) = self.open.as_mut()
            && let Err(err) = f.flush()
        {
            tracing::warn!(%err, "audit spool: flush failed");
        }
        out
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let rotate = match (&self.open, self.segments.back()) {
            (Some(_), Some(seg)) => seg.bytes >= self.segment_max_bytes,
            _ => true,
        };
        if rotate {
            let seq = self.next_seq;
            let path = self.dir.join(format!("{PREFIX}{seq:020}{SUFFIX}"));
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            self.next_seq += 1;
            self.segments.push_back(Segment {
                seq,
                path,
                bytes: 0,
            });
            self.open = Some(file);
        }
        match self.open.as_mut() {
            Some(f) => f.write_all(line),
            None => Err(io::Error::other("no open spool segment")),
        }
    }

    /// Reads the oldest segment, sealing it if it is the open one. Returns its
    /// sequence number and events (unparseable lines, e.g. a torn last line
    /// after a crash, are skipped and counted in the second element).
    pub(crate) fn read_oldest(&mut self) -> io::Result<Option<(u64, Vec<AuditEvent>, u64)>> {
        let Some(seg) = self.segments.front() else {
            return Ok(None);
        };
        if self.segments.len() == 1 {
            // The oldest is the open segment: seal it so new appends go elsewhere.
            self.open = None;
        }
        let seq = seg.seq;
        let data = fs::read(&seg.path)?;
        let mut events = Vec::new();
        let mut bad = 0;
        for line in data.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<AuditEvent>(line) {
                Ok(ev) => events.push(ev),
                Err(err) => {
                    tracing::warn!(%err, "audit spool: skipping unreadable line");
                    bad += 1;
                }
            }
        }
        Ok(Some((seq, events, bad)))
    }

    /// Removes a replayed segment.
    pub(crate) fn remove(&mut self, seq: u64) {
        let Some(idx) = self.segments.iter().position(|s| s.seq == seq) else {
            return;
        };
        if idx + 1 == self.segments.len() {
            self.open = None;
        }
        if let Some(seg) = self.segments.remove(idx) {
            if let Err(err) = fs::remove_file(&seg.path)
                && err.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(%err, path = %seg.path.display(), "audit spool: cannot remove segment");
            }
            self.total_bytes = self.total_bytes.saturating_sub(seg.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::event::RequestPayload;

    fn ev(i: u64) -> AuditEvent {
        AuditEvent::request(RequestPayload {
            server: "s".into(),
            latency_ms: i,
            ..RequestPayload::default()
        })
    }

    #[test]
    fn append_read_remove_in_order_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<AuditEvent> = (0..50).map(ev).collect();
        {
            let mut sp = Spool::open(dir.path(), 1 << 20, 2_000).unwrap();
            assert!(sp.is_empty());
            let a = sp.append(&events[..30]);
            assert_eq!(
                a,
                Appended {
                    written: 30,
                    dropped: 0
                }
            );
            let a = sp.append(&events[30..]);
            assert_eq!(a.written, 20);
            assert!(sp.segments.len() > 1, "rotated into several segments");
        }
        let mut sp = Spool::open(dir.path(), 1 << 20, 2_000).unwrap();
        let mut got = Vec::new();
        while let Some((seq, evs, bad)) = sp.read_oldest().unwrap() {
            assert_eq!(bad, 0);
            got.extend(evs);
            sp.remove(seq);
        }
        assert_eq!(got, events);
        assert_eq!(sp.total_bytes(), 0);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn bounded_and_skips_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut sp = Spool::open(dir.path(), 1_000, 1 << 20).unwrap();
        let a = sp.append(&(0..50).map(ev).collect::<Vec<_>>());
        assert!(a.written > 0 && a.dropped > 0, "{a:?}");
        assert!(sp.total_bytes() <= 1_000);
        let path = sp.segments[0].path.clone();
        drop(sp);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"torn").unwrap();
        let mut sp = Spool::open(dir.path(), 1_000, 1 << 20).unwrap();
        let (_, evs, bad) = sp.read_oldest().unwrap().unwrap();
        assert_eq!(evs.len() as u64, a.written);
        assert_eq!(bad, 1);
    }
}
