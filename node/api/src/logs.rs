//! Log lines for front ends: a [`tracing_subscriber::Layer`] that the binary installs next to
//! its console and file loggers (the library installs nothing itself), a ring of the recent
//! lines for `getlogs`, and a `log` event per line on the node's event stream once a node is
//! attached.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use p2share_service::{LogLine, Node, NodeEvent};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;

/// Lines kept for `getlogs`.
pub const KEPT_LINES: usize = 2_000;

#[derive(Default)]
struct Inner {
    lines: VecDeque<LogLine>,
    node: Option<Node>,
}

/// The recent log lines, shared by the layer and the API; cheap to clone.
#[derive(Clone, Default)]
pub struct LogBuffer {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBuffer").finish_non_exhaustive()
    }
}

impl LogBuffer {
    /// An empty buffer.
    pub fn new() -> LogBuffer {
        LogBuffer::default()
    }

    /// A layer that records events at `max_level` or more severe into this buffer.
    pub fn layer(&self, max_level: Level) -> LogLayer {
        LogLayer {
            buffer: self.clone(),
            max_level,
        }
    }

    /// From now on every line is also a `log` event on `node`'s stream.
    pub fn attach(&self, node: Node) {
        self.lock().node = Some(node);
    }

    /// Stops sending events (the node is closing).
    pub fn detach(&self) {
        self.lock().node = None;
    }

    /// Adds a line.
    pub fn push(&self, line: LogLine) {
        let node = {
            let mut inner = self.lock();
            if inner.lines.len() == KEPT_LINES {
                inner.lines.pop_front();
            }
            inner.lines.push_back(line.clone());
            inner.node.clone()
        };
        if let Some(node) = node {
            node.emit(NodeEvent::Log(line));
        }
    }

    /// The last `count` lines, oldest first.
    pub fn last(&self, count: usize) -> Vec<LogLine> {
        let inner = self.lock();
        let skip = inner.lines.len().saturating_sub(count);
        inner.lines.iter().skip(skip).cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The tracing layer of a [`LogBuffer`].
#[derive(Debug)]
pub struct LogLayer {
    buffer: LogBuffer,
    max_level: Level,
}

/// Collects an event's message and fields as `message key=value …`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        // Levels order from TRACE (greatest) to ERROR (least).
        if *meta.level() > self.max_level {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.buffer.push(LogLine {
            time,
            level: meta.level().to_string(),
            target: meta.target().to_string(),
            message: format!("{}{}", text.message, text.fields),
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn lines_at_or_above_the_level_are_kept_with_their_fields() {
        let buffer = LogBuffer::new();
        let subscriber = tracing_subscriber::registry().with(buffer.layer(Level::INFO));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(height = 7, "share found");
            tracing::debug!("not kept");
            tracing::warn!(error = "boom", "own share refused");
        });
        let lines = buffer.last(10);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].level, "INFO");
        assert_eq!(lines[0].message, "share found height=7");
        assert_eq!(lines[1].message, "own share refused error=boom");
        assert_eq!(buffer.last(1), lines[1..]);
    }

    #[test]
    fn the_ring_keeps_the_latest_lines() {
        let buffer = LogBuffer::new();
        for i in 0..KEPT_LINES + 5 {
            buffer.push(LogLine {
                time: i as u64,
                level: "INFO".into(),
                target: "t".into(),
                message: i.to_string(),
            });
        }
        let lines = buffer.last(usize::MAX);
        assert_eq!(lines.len(), KEPT_LINES);
        assert_eq!(lines[0].time, 5);
    }
}
