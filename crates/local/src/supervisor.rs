//! Keeps one server running: start, wait for an MCP handshake, restart with backoff when it
//! exits, and stop it (with everything it started) when asked.

use crate::plan::{Launch, SELF_COMMAND, ServerPlan, expand};
use crate::probe::{ServerFacts, handshake};
use crate::process::{RecentOutput, Running, Spec, program_exists, spawn_error, start};
use crate::status::{Phase, ServerStatus};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Time a process gets after each polite stop step (stdin closed, then SIGTERM).
const STOP_GRACE: Duration = Duration::from_secs(3);
/// A process that ran this long before exiting starts again without delay.
const HEALTHY_RUN: Duration = Duration::from_secs(30);
/// Longest wait between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often an external server is checked once ready.
const EXTERNAL_RECHECK: Duration = Duration::from_secs(30);

/// Settings shared by every supervisor.
#[derive(Clone, Debug)]
pub struct LaunchContext {
    /// The running `mcp-runtime` binary: it serves stdio servers (`bridge`) and is what the
    /// command name `mcp-runtime` means in a manifest.
    pub self_exe: PathBuf,
    /// Working directory of the servers (the manifests directory, so relative paths in
    /// commands mean what they say).
    pub work_dir: PathBuf,
}

/// A running supervisor for one server.
#[derive(Debug)]
pub struct Supervisor {
    /// What the server was started from: a new plan with another fingerprint means restart.
    pub fingerprint: String,
    /// Where the gateway forwards this server's traffic. Stable across restarts.
    pub upstream: String,
    status: Arc<Mutex<ServerStatus>>,
    output: RecentOutput,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Supervisor {
    /// Starts supervising `plan`. `url` is the public URL shown in the status.
    pub fn spawn(plan: &ServerPlan, url: String, context: &LaunchContext) -> Supervisor {
        let port = free_port();
        let upstream = match &plan.launch {
            Launch::Stdio { .. } => format!("http://127.0.0.1:{port}/mcp"),
            Launch::Http { mcp_path, .. } => format!("http://127.0.0.1:{port}{mcp_path}"),
            Launch::External { url } => url.clone(),
        };
        let status = Arc::new(Mutex::new(ServerStatus {
            name: plan.key.name.clone(),
            namespace: plan.key.namespace.clone(),
            url,
            launch: match plan.launch {
                Launch::Stdio { .. } => "stdio",
                Launch::Http { .. } => "http",
                Launch::External { .. } => "external",
            }
            .to_owned(),
            upstream: upstream.clone(),
            warnings: plan.warnings.clone(),
            ..ServerStatus::default()
        }));
        let (stop, stop_rx) = watch::channel(false);
        let output = RecentOutput::default();
        let work = Work {
            name: plan.key.name.clone(),
            self_exe: context.self_exe.clone(),
            command: command_for(&plan.launch, port, context),
            upstream: upstream.clone(),
            work_dir: context.work_dir.clone(),
            status: status.clone(),
            output: output.clone(),
        };
        let task = tokio::spawn(async move {
            match work.command.clone() {
                Some(command) => work.supervise_process(command, stop_rx).await,
                None => work.watch_external(stop_rx).await,
            }
        });
        Supervisor {
            fingerprint: plan.fingerprint.clone(),
            upstream,
            status,
            output,
            stop,
            task,
        }
    }

    /// A snapshot of the status, with the latest output lines.
    pub fn status(&self) -> ServerStatus {
        (self.status_source())()
    }

    /// A cheap, shareable way to read the status later (for the route gate and the status
    /// endpoint, which outlive a borrow of the supervisor).
    pub fn status_source(&self) -> Arc<dyn Fn() -> ServerStatus + Send + Sync> {
        let status = self.status.clone();
        let output = self.output.clone();
        Arc::new(move || {
            let mut snapshot = lock(&status).clone();
            snapshot.recent_output = output.lines();
            snapshot
        })
    }

    /// Stops the server and waits until its processes are gone.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// A process to run: program, arguments (already expanded) and environment.
#[derive(Clone, Debug)]
struct Command {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// The bridge exits cleanly when its stdin closes; other commands get SIGTERM at once.
    exits_on_eof: bool,
    /// The server's own program (behind the bridge for stdio servers), checked before each
    /// start so a missing one is reported as such instead of failing inside the bridge.
    requires: PathBuf,
}

fn command_for(launch: &Launch, port: u16, context: &LaunchContext) -> Option<Command> {
    let resolve = |program: &str| -> PathBuf {
        if program == SELF_COMMAND {
            context.self_exe.clone()
        } else {
            PathBuf::from(program)
        }
    };
    match launch {
        Launch::Stdio { program, args, env } => {
            let mut bridge_args = vec![
                "bridge".to_owned(),
                "--listen".to_owned(),
                format!("127.0.0.1:{port}"),
                "--path".to_owned(),
                "/mcp".to_owned(),
                "--exit-on-stdin-eof".to_owned(),
                "--".to_owned(),
                resolve(program).display().to_string(),
            ];
            bridge_args.extend(args.iter().map(|a| expand(a, env)));
            Some(Command {
                program: context.self_exe.clone(),
                args: bridge_args,
                env: env.clone(),
                exits_on_eof: true,
                requires: resolve(program),
            })
        }
        Launch::Http {
            program, args, env, ..
        } => {
            let mut env = env.clone();
            env.retain(|(name, _)| name != "PORT");
            env.push(("PORT".to_owned(), port.to_string()));
            Some(Command {
                program: resolve(program),
                args: args.iter().map(|a| expand(a, &env)).collect(),
                env,
                exits_on_eof: false,
                requires: resolve(program),
            })
        }
        Launch::External { .. } => None,
    }
}

/// A free loopback port. The supervisor keeps it for the server's whole life, so restarts do
/// not move the upstream; servers bind it with SO_REUSEADDR, as HTTP servers do.
fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(0)
}

fn lock(status: &Mutex<ServerStatus>) -> std::sync::MutexGuard<'_, ServerStatus> {
    status.lock().unwrap_or_else(|p| p.into_inner())
}

struct Work {
    name: String,
    /// This executable: every server runs under its `guard-child` (see [`crate::guard`]).
    self_exe: PathBuf,
    command: Option<Command>,
    upstream: String,
    work_dir: PathBuf,
    status: Arc<Mutex<ServerStatus>>,
    output: RecentOutput,
}

enum Outcome {
    Exited(String),
    Stopped,
}

impl Work {
    fn update(&self, change: impl FnOnce(&mut ServerStatus)) {
        change(&mut lock(&self.status));
    }

    async fn supervise_process(&self, command: Command, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(250);
        if !self.until_program_exists(&command, &mut stop).await {
            self.update(|s| s.phase = Phase::Stopped);
            return;
        }
        loop {
            let started = Instant::now();
            let spec = Spec {
                name: &self.name,
                program: &command.program,
                args: &command.args,
                env: &command.env,
                dir: &self.work_dir,
                guard: Some(&self.self_exe),
            };
            let running = start(&spec, &self.output);
            let outcome = match running {
                Ok(running) => {
                    let pid = running.pid();
                    self.update(|s| {
                        s.phase = Phase::Starting;
                        s.pid = Some(pid);
                        s.facts = None;
                        s.ready_since = None;
                    });
                    self.run_once(running, &command, &mut stop).await
                }
                Err(error) => {
                    self.update(|s| {
                        s.phase = Phase::Failed;
                        s.pid = None;
                        s.last_error = Some(error.to_string());
                    });
                    tracing::warn!(target: crate::CONSOLE, "{} | {error}", self.name);
                    Outcome::Exited(error.to_string())
                }
            };
            match outcome {
                Outcome::Stopped => {
                    self.update(|s| {
                        s.phase = Phase::Stopped;
                        s.pid = None;
                    });
                    return;
                }
                Outcome::Exited(how) => {
                    if started.elapsed() >= HEALTHY_RUN {
                        backoff = Duration::from_millis(250);
                    }
                    self.update(|s| {
                        if s.phase != Phase::Failed {
                            s.phase = Phase::Restarting;
                            s.restarts += 1;
                            s.last_exit = Some(how.clone());
                        }
                        s.pid = None;
                    });
                    tracing::warn!(
                        target: crate::CONSOLE,
                        "{} | exited ({how}); starting again in {} ms",
                        self.name,
                        backoff.as_millis()
                    );
                    if stopped_within(&mut stop, backoff).await {
                        self.update(|s| s.phase = Phase::Stopped);
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Waits, quietly, until the server's program exists: `Failed` with what to install, checked
    /// again with a growing interval (1 s doubling to 30 s) and said once, not on every check.
    /// False when stopped first.
    async fn until_program_exists(
        &self,
        command: &Command,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let mut interval = Duration::from_secs(1);
        let mut checks = 0_u32;
        while !program_exists(&command.requires, &command.env, &self.work_dir) {
            checks += 1;
            let error = spawn_error(
                &command.requires,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            );
            if checks == 1 {
                tracing::warn!(
                    target: crate::CONSOLE,
                    "{} | {error}; checking again with a growing interval",
                    self.name
                );
            }
            self.update(|s| {
                s.phase = Phase::Failed;
                s.pid = None;
                s.last_error = Some(format!(
                    "{error} (checked {checks} time(s); next check in {} s)",
                    interval.as_secs()
                ));
            });
            if stopped_within(stop, interval).await {
                return false;
            }
            interval = (interval * 2).min(MAX_BACKOFF);
        }
        if checks > 0 {
            tracing::info!(
                target: crate::CONSOLE,
                "{} | {} is there now; starting",
                self.name,
                command.requires.display()
            );
        }
        true
    }

    /// One process life: wait for readiness, then for exit or stop.
    async fn run_once(
        &self,
        mut running: Running,
        command: &Command,
        stop: &mut watch::Receiver<bool>,
    ) -> Outcome {
        enum First {
            Exited(std::io::Result<std::process::ExitStatus>),
            Ready(ServerFacts),
            Stop,
        }
        let first = tokio::select! {
            exit = running.wait() => First::Exited(exit),
            facts = self.until_ready() => First::Ready(facts),
            _ = stop.wait_for(|stop| *stop) => First::Stop,
        };
        let exited = match first {
            First::Exited(exit) => Some(exit),
            First::Stop => None,
            First::Ready(facts) => {
                self.mark_ready(facts);
                tokio::select! {
                    exit = running.wait() => Some(exit),
                    _ = stop.wait_for(|stop| *stop) => None,
                }
            }
        };
        match exited {
            Some(exit) => {
                let how = match exit {
                    Ok(status) => status.to_string(),
                    Err(error) => format!("wait failed: {error}"),
                };
                // The leader is gone; make sure nothing it started lingers before the restart.
                running.stop(Duration::ZERO, false).await;
                Outcome::Exited(how)
            }
            None => {
                running.stop(STOP_GRACE, command.exits_on_eof).await;
                Outcome::Stopped
            }
        }
    }

    fn mark_ready(&self, facts: ServerFacts) {
        let now = jiff::Timestamp::now().to_string();
        tracing::info!(
            target: crate::CONSOLE,
            "{} | ready: {} tool(s) at {}",
            self.name,
            facts.tools.len(),
            self.upstream
        );
        self.update(|s| {
            s.phase = Phase::Ready;
            s.facts = Some(facts);
            s.ready_since = Some(now);
            s.last_error = None;
        });
    }

    /// Polls the handshake until it succeeds, keeping the last failure in the status.
    async fn until_ready(&self) -> ServerFacts {
        let mut pause = Duration::from_millis(50);
        loop {
            match tokio::time::timeout(Duration::from_secs(10), handshake(&self.upstream)).await {
                Ok(Ok(facts)) => return facts,
                Ok(Err(error)) => self.update(|s| s.last_error = Some(error.to_string())),
                Err(_) => self.update(|s| {
                    s.last_error = Some("handshake timed out after 10 s".to_owned());
                }),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    async fn watch_external(&self, mut stop: watch::Receiver<bool>) {
        loop {
            let checked = tokio::select! {
                result = tokio::time::timeout(Duration::from_secs(10), handshake(&self.upstream)) => result,
                _ = stop.wait_for(|stop| *stop) => break,
            };
            let pause = match checked {
                Ok(Ok(facts)) => {
                    if lock(&self.status).phase != Phase::Ready {
                        self.mark_ready(facts);
                    } else {
                        // Keep what it lists current (the tool digests that pins are checked
                        // against at the next render).
                        self.update(|s| s.facts = Some(facts));
                    }
                    EXTERNAL_RECHECK
                }
                Ok(Err(error)) => {
                    self.update(|s| {
                        s.phase = Phase::Starting;
                        s.last_error = Some(error.to_string());
                    });
                    Duration::from_secs(1)
                }
                Err(_) => {
                    self.update(|s| {
                        s.phase = Phase::Starting;
                        s.last_error = Some("handshake timed out after 10 s".to_owned());
                    });
                    Duration::from_secs(1)
                }
            };
            if stopped_within(&mut stop, pause).await {
                break;
            }
        }
        self.update(|s| s.phase = Phase::Stopped);
    }
}

/// Waits `pause`, returning early with `true` when a stop is requested.
async fn stopped_within(stop: &mut watch::Receiver<bool>, pause: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(pause) => false,
        _ = stop.wait_for(|stop| *stop) => true,
    }
}
