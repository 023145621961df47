//! An incremental parser of `text/event-stream` (the WHATWG rules the MCP transport uses): the
//! adapter reads the runtime's SSE replies as they arrive and writes each event's JSON-RPC
//! message as a line, without waiting for the stream to end.

/// One dispatched event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// `event:` (absent means `message`).
    pub event: Option<String>,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
    /// `id:`, when the event carried one.
    pub id: Option<String>,
}

/// Feeds bytes in with [`Parser::push`]; complete events come out.
#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of the line not yet complete.
    partial: Vec<u8>,
    data: String,
    has_data: bool,
    event: Option<String>,
    id: Option<String>,
    last_event_id: Option<String>,
    retry: Option<u64>,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// The id of the last event seen (what a resumed stream sends as `Last-Event-ID`).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The last `retry:` value (milliseconds), if the stream sent one.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry
    }

    /// Parses `chunk` (which may end in the middle of a line or of a UTF-8 character) and
    /// returns the events it completes. Lines end with LF or CRLF.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.partial.extend_from_slice(rest);
        events
    }

    fn line(&mut self, line: &[u8]) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.first() == Some(&b':') {
            return None; // a comment (keep-alive)
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            "retry" => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let event = self.event.take();
        let id = self.id.take();
        if id.is_some() {
            // The stream's position moves even when the event has no data (a priming event).
            self.last_event_id.clone_from(&id);
        }
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(Event {
            event,
            data: std::mem::take(&mut self.data),
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let stream = b": keep-alive\r\nid: 7\r\nevent: message\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nid: 8\ndata:\n\nretry: 500\ndata: x\n\n";
        for split in 0..stream.len() {
            let mut parser = Parser::new();
            let mut events = parser.push(&stream[..split]);
            events.extend(parser.push(&stream[split..]));
            assert_eq!(
                events,
                [
                    Event {
                        event: Some("message".into()),
                        data: "{\"a\":\n1}".into(),
                        id: Some("7".into()),
                    },
                    Event {
                        event: None,
                        data: String::new(),
                        id: Some("8".into()),
                    },
                    Event {
                        event: None,
                        data: "x".into(),
                        id: None,
                    },
                ],
                "split at {split}"
            );
            assert_eq!(parser.last_event_id(), Some("8"));
            assert_eq!(parser.retry_ms(), Some(500));
        }
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_but_moves_the_position() {
        let mut parser = Parser::new();
        assert!(parser.push(b"id: 3\n\n").is_empty());
        assert_eq!(parser.last_event_id(), Some("3"));
        // An unfinished event is not dispatched.
        assert!(parser.push(b"data: partial").is_empty());
    }
}
