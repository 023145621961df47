//! One supervised OS process: started in its own process group, its output prefixed with the
//! server's name, and stopped so that nothing it started survives.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How many of a server's last output lines are kept for `mcp-runtime status`.
const KEPT_LINES: usize = 20;

/// The last lines a process printed, newest last.
#[derive(Clone, Debug, Default)]
pub struct RecentOutput(Arc<Mutex<VecDeque<String>>>);

impl RecentOutput {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// A copy of the kept lines.
    pub fn lines(&self) -> Vec<String> {
        let lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        lines.iter().cloned().collect()
    }
}

/// What to start.
#[derive(Clone, Debug)]
pub struct Spec<'a> {
    /// Prefix of every output line (the server's name).
    pub name: &'a str,
    pub program: &'a Path,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    /// Working directory.
    pub dir: &'a Path,
    /// This executable, to start the program under [`crate::guard`] so it dies with this
    /// process; `None` starts it directly.
    pub guard: Option<&'a Path>,
}

/// A running process group.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// Held open: a child that watches its stdin (the bridge does) exits when the local mode
    /// dies, even by SIGKILL, so no process outlives it.
    stdin: Option<ChildStdin>,
    pid: u32,
}

/// Starts `spec` in a new process group. A program that is not installed gets an error that
/// says what to install, when the program is a well-known runtime.
pub fn start(spec: &Spec<'_>, output: &RecentOutput) -> Result<Running, StartError> {
    let mut command = match spec.guard {
        Some(this_exe) => {
            let mut command = Command::new(this_exe);
            command.args(crate::guard::guarded_args(
                std::process::id(),
                spec.program,
                spec.args,
            ));
            command
        }
        None => {
            let mut command = Command::new(spec.program);
            command.args(spec.args);
            command
        }
    };
    command
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(spec.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a terminal's Ctrl-C reaches only the local mode, which then stops
        // every server in order, and a stop signal reaches the server's own children too.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|error| spawn_error(spec.program, error))?;
    let pid = child.id().unwrap_or_default();
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(relay(spec.name.to_owned(), stdout, output.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(relay(spec.name.to_owned(), stderr, output.clone()));
    }
    Ok(Running {
        stdin: child.stdin.take(),
        child,
        pid,
    })
}

impl Running {
    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits for the process to exit.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Stops the process and everything in its group: close stdin and (when the process is
    /// known to exit on end of input, as the bridge does) wait, then SIGTERM and wait, then
    /// SIGKILL. The group is killed at the end in any case, so grandchildren that ignored the
    /// polite steps do not linger.
    pub async fn stop(mut self, grace: Duration, exits_on_eof: bool) -> Option<ExitStatus> {
        drop(self.stdin.take());
        let mut status = if exits_on_eof {
            tokio::time::timeout(grace, self.child.wait())
                .await
                .ok()
                .and_then(Result::ok)
        } else {
            None
        };
        if status.is_none() {
            self.signal(Signal::SIGTERM);
            status = tokio::time::timeout(grace, self.child.wait())
                .await
                .ok()
                .and_then(Result::ok);
        }
        self.signal(Signal::SIGKILL);
        if status.is_none() {
            status = self.child.wait().await.ok();
        }
        status
    }

    fn signal(&self, signal: Signal) {
        if let Ok(pid) = i32::try_from(self.pid)
            && pid > 0
        {
            // ESRCH (the group is already gone) is the outcome we want, not an error.
            let _ = killpg(Pid::from_raw(pid), signal);
        }
    }
}

/// Whether `program` can be started: a path (anything with a `/`, relative to `dir`) must be an
/// executable file; a bare name must be one in a directory of `PATH` (the server's own `PATH`
/// when its environment sets one, as `exec` would search it).
pub(crate) fn program_exists(program: &Path, env: &[(String, String)], dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.components().count() > 1 || program.is_absolute() {
        return executable(&dir.join(program));
    }
    let path = env
        .iter()
        .rev()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| std::ffi::OsString::from(value))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    std::env::split_paths(&path).any(|directory| executable(&dir.join(directory).join(program)))
}

async fn relay(name: String, stream: impl AsyncRead + Unpin, output: RecentOutput) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: crate::CONSOLE, "{name} | {line}");
        output.push(line);
    }
}

/// Why a server's process did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The program is not on `PATH`; `hint` says what to install.
    #[error("command {program:?} was not found on PATH; {hint}")]
    NotFound { program: String, hint: &'static str },
    /// Any other failure to start it.
    #[error("starting {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
}

pub(crate) fn spawn_error(program: &Path, error: io::Error) -> StartError {
    if error.kind() != io::ErrorKind::NotFound {
        return StartError::Spawn {
            program: program.display().to_string(),
            source: error,
        };
    }
    let name = program
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let hint = match name {
        "node" | "npx" | "npm" => {
            "install Node.js and npm (Debian: `apt-get install nodejs npm`), then run again"
        }
        "python" | "python3" | "pip" | "pip3" => {
            "install Python 3 (Debian: `apt-get install python3 python3-venv`), then run again"
        }
        "uv" | "uvx" => "install uv (`pip install uv`), then run again",
        "docker" => "the local mode runs processes, not containers: set spec.command",
        _ => "install it or fix spec.command",
    };
    StartError::NotFound {
        program: program.display().to_string(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_runtime_testkit::eventually;

    const WAIT: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn missing_runtime_gets_an_install_hint() {
        let output = RecentOutput::default();
        let spec = Spec {
            name: "t",
            program: Path::new("npx-definitely-missing"),
            args: &[],
            env: &[],
            dir: Path::new("."),
            guard: None,
        };
        let error = start(&spec, &output)
            .expect_err("no such program")
            .to_string();
        assert!(error.contains("was not found on PATH"), "{error}");
        let hint =
            spawn_error(Path::new("npx"), io::Error::from(io::ErrorKind::NotFound)).to_string();
        assert!(hint.contains("apt-get install nodejs npm"), "{hint}");
    }

    #[tokio::test]
    async fn stop_reaches_grandchildren_and_output_is_kept() {
        let output = RecentOutput::default();
        let args = vec![
            "-c".to_owned(),
            // The grandchild ignores SIGTERM: only the final group SIGKILL ends it.
            "echo started; (trap '' TERM; sleep 300) & echo $! ; wait".to_owned(),
        ];
        let spec = Spec {
            name: "t",
            program: Path::new("sh"),
            args: &args,
            env: &[],
            dir: Path::new("."),
            guard: None,
        };
        let running = start(&spec, &output).expect("sh starts");
        let grandchild = eventually("the grandchild's pid", WAIT, async || {
            output.lines().get(1).cloned()
        })
        .await;
        let grandchild: i32 = grandchild.trim().parse().expect("a pid");
        assert!(Path::new(&format!("/proc/{grandchild}")).exists());
        running.stop(Duration::from_millis(200), false).await;
        eventually("the grandchild gone", WAIT, async || {
            let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).ok();
            // Gone, or a zombie waiting for init to reap it.
            match state {
                None => Some(()),
                Some(stat) if stat.contains(") Z") => Some(()),
                Some(_) => None,
            }
        })
        .await;
        assert_eq!(output.lines()[0], "started");
    }
}
