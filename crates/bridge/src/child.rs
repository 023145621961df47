//! One stdio MCP server process: newline-delimited JSON-RPC on stdin and stdout, stderr passed
//! through to the bridge's stderr with a prefix, and graceful termination (close stdin → wait →
//! SIGTERM → wait → SIGKILL) of the process group it leads.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::{mpsc, watch};

/// How long each step of the graceful shutdown of a child may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grace {
    /// After closing the child's stdin (the MCP stdio shutdown signal), before SIGTERM.
    pub after_stdin_close: Duration,
    /// After SIGTERM, before SIGKILL.
    pub after_sigterm: Duration,
}

impl Default for Grace {
    fn default() -> Self {
        Grace {
            after_stdin_close: Duration::from_secs(5),
            after_sigterm: Duration::from_secs(5),
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub(crate) struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    pub max_line_bytes: usize,
}

enum Control {
    Signal(Signal),
}

/// A running (or exited) child process.
#[derive(Debug)]
pub(crate) struct ChildProcess {
    label: String,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    exit: watch::Receiver<Option<ExitStatus>>,
    control: mpsc::UnboundedSender<Control>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Signal(signal) => write!(f, "Signal({signal})"),
        }
    }
}

/// Starts the child. Messages it writes on stdout arrive on the returned receiver, which closes
/// when stdout closes (normally when the process exits).
pub(crate) fn spawn(
    launch: &Launch,
    label: &str,
) -> io::Result<(Arc<ChildProcess>, mpsc::Receiver<Value>)> {
    let mut command = Command::new(&launch.program);
    command
        .args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: signals reach the server's own helpers too, and a terminal's
        // Ctrl-C reaches only the bridge, which then shuts the children down in order.
        .process_group(0)
        // Last resort if the owning task is dropped without a shutdown.
        .kill_on_drop(true);
    if let Some(cwd) = &launch.cwd {
        command.current_dir(cwd);
    }
    let mut child = {
        // Registered under the same lock the orphan reaper holds, so it never reaps our own.
        let mut own = own_children();
        let child = command.spawn()?;
        if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
            own.insert(pid);
        }
        child
    };
    let pid = child.id().unwrap_or_default();
    let label = format!("{label} pid {pid}");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let (exit_tx, exit_rx) = watch::channel(None);
    let (control_tx, mut control_rx) = mpsc::unbounded_channel::<Control>();
    let group = i32::try_from(pid).ok().map(Pid::from_raw);
    // The only task that reaps the child, so a signal is never sent to a recycled pid.
    tokio::spawn(async move {
        loop {
            tokio::select! {
                status = child.wait() => {
                    if let Some(group) = group {
                        own_children().remove(&group.as_raw());
                    }
                    let _ = exit_tx.send(Some(status.unwrap_or_else(|_| failed_status())));
                    break;
                }
                Some(Control::Signal(signal)) = control_rx.recv() => {
                    if let (Ok(None), Some(group)) = (child.try_wait(), group) {
                        let _ = killpg(group, signal);
                    }
                }
            }
        }
        // Helpers the server left behind in its process group follow it.
        if let Some(group) = group {
            let _ = killpg(group, Signal::SIGKILL);
        }
    });

    if let Some(stderr) = stderr {
        let label = label.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        tracing::info!(target: mcp_runtime_serve::CONSOLE, "[{label}] {}", text.trim_end_matches(['\n', '\r']));
                    }
                }
            }
        });
    }

    let (messages_tx, messages_rx) = mpsc::channel(256);
    if let Some(stdout) = stdout {
        let label = label.clone();
        let max = launch.max_line_bytes;
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout);
            loop {
                match read_line(&mut reader, max).await {
                    Ok(Line::Eof) | Err(_) => break,
                    Ok(Line::TooLong) => {
                        tracing::warn!("[{label}] dropped a stdout line longer than {max} bytes");
                    }
                    Ok(Line::Data(bytes)) => {
                        if bytes.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        match serde_json::from_slice::<Value>(&bytes) {
                            Ok(value) if value.is_object() => {
                                if messages_tx.send(value).await.is_err() {
                                    break;
                                }
                            }
                            _ => tracing::warn!(
                                "[{label}] ignored a stdout line that is not a JSON-RPC message: {}",
                                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                            ),
                        }
                    }
                }
            }
        });
    }

    Ok((
        Arc::new(ChildProcess {
            label,
            stdin: tokio::sync::Mutex::new(stdin),
            exit: exit_rx,
            control: control_tx,
        }),
        messages_rx,
    ))
}

/// Children spawned here and not reaped yet (tokio reaps them).
static OWN_CHILDREN: std::sync::Mutex<BTreeSet<i32>> = std::sync::Mutex::new(BTreeSet::new());

fn own_children() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    OWN_CHILDREN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// As PID 1 of a container the bridge inherits every orphaned process (helpers a server left
/// behind). This reaps those that have exited, never the bridge's own children, whose exit
/// status tokio collects.
pub(crate) async fn reap_orphans() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut exits = signal(SignalKind::child()).ok();
    loop {
        match exits.as_mut() {
            Some(exits) => {
                let _ = tokio::time::timeout(Duration::from_secs(5), exits.recv()).await;
            }
            None => tokio::time::sleep(Duration::from_secs(1)).await,
        }
        let me = std::process::id();
        let own = own_children();
        for pid in zombie_children(me) {
            if !own.contains(&pid) {
                let _ = nix::sys::wait::waitpid(
                    Pid::from_raw(pid),
                    Some(nix::sys::wait::WaitPidFlag::WNOHANG),
                );
            }
        }
    }
}

/// Exited, unreaped children of `parent`, from /proc.
fn zombie_children(parent: u32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    let mut fields = rest.split_whitespace();
                    let state = fields.next()?;
                    let ppid = fields.next()?.parse::<u32>().ok()?;
                    Some(state == "Z" && ppid == parent)
                })
                .unwrap_or(false)
        })
        .collect()
}

fn failed_status() -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    ExitStatus::from_raw(1 << 8)
}

enum Line {
    Data(Vec<u8>),
    TooLong,
    Eof,
}

/// Reads one `\n`-terminated line of at most `max` bytes; longer lines are skipped whole.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, max: usize) -> io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if line.is_empty() && !too_long {
                Line::Eof
            } else if too_long {
                Line::TooLong
            } else {
                Line::Data(line)
            });
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(end) => (&available[..end], Some(end + 1)),
            None => (available, None),
        };
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let consumed = done.unwrap_or(available.len());
        reader.consume(consumed);
        if done.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Data(line)
            });
        }
    }
}

impl ChildProcess {
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Writes one message as a line on the child's stdin.
    pub(crate) async fn send(&self, message: &Value) -> io::Result<()> {
        let mut line = serde_json::to_vec(message).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut stdin = self.stdin.lock().await;
        let Some(pipe) = stdin.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the server's stdin is closed",
            ));
        };
        pipe.write_all(&line).await?;
        pipe.flush().await
    }

    /// Waits up to `limit` for the process to exit; true if it has.
    async fn wait_exit(&self, limit: Duration) -> bool {
        let mut exit = self.exit.clone();
        tokio::time::timeout(limit, exit.wait_for(Option::is_some))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Waits until the process has exited.
    pub(crate) async fn exited(&self) {
        let mut exit = self.exit.clone();
        let _ = exit.wait_for(Option::is_some).await;
    }

    /// Close stdin → wait → SIGTERM → wait → SIGKILL, returning once the process is gone.
    pub(crate) async fn terminate(&self, grace: Grace) {
        // A writer stuck on a full pipe must not hold up the shutdown.
        if let Ok(mut stdin) =
            tokio::time::timeout(Duration::from_millis(200), self.stdin.lock()).await
        {
            stdin.take();
        }
        if self.wait_exit(grace.after_stdin_close).await {
            return;
        }
        tracing::warn!(
            "[{}] still running {:?} after its stdin closed: SIGTERM",
            self.label,
            grace.after_stdin_close
        );
        let _ = self.control.send(Control::Signal(Signal::SIGTERM));
        if self.wait_exit(grace.after_sigterm).await {
            return;
        }
        tracing::warn!(
            "[{}] still running {:?} after SIGTERM: SIGKILL",
            self.label,
            grace.after_sigterm
        );
        let _ = self.control.send(Control::Signal(Signal::SIGKILL));
        self.exited().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_split_and_bounded() {
        let input: &[u8] = b"{\"a\":1}\nxxxxxxxxxxxxxxxxxxxx\n\n{\"b\":2}";
        let mut reader = BufReader::with_capacity(4, input);
        let mut lines = Vec::new();
        loop {
            match read_line(&mut reader, 10).await.expect("read") {
                Line::Eof => break,
                Line::TooLong => lines.push("too long".to_owned()),
                Line::Data(data) => lines.push(String::from_utf8(data).expect("utf8")),
            }
        }
        assert_eq!(lines, ["{\"a\":1}", "too long", "", "{\"b\":2}"]);
    }
}
