//! Children that die with `up`, even when `up` is killed with SIGKILL.
//!
//! A server started by `up` runs in its own process group (so a terminal's Ctrl-C reaches only
//! `up`, which then stops every server in order). The price is that nothing ends such a group
//! when `up` itself dies without a chance to clean up. So `up` does not start a server's program
//! directly: it starts `mcp-runtime guard-child --parent <up's pid> -- PROGRAM ARGS…`, which
//!
//! 1. asks the kernel for SIGUSR1 when its parent dies (`PR_SET_PDEATHSIG`), then checks that
//!    the parent is still the one it was started by (it may have died in between);
//! 2. starts the program as its child, in the same group, with the same stdin, stdout and
//!    stderr;
//! 3. on SIGUSR1 kills its whole process group with SIGKILL: the program and everything the
//!    program started (an `npx` wrapper's node, a shell's children), unless they left the group;
//! 4. otherwise exits as the program exits (its code, or 128 + the signal that ended it).
//!
//! SIGTERM, SIGINT and SIGHUP reach the whole group from `up`'s orderly stop; the guard lets the
//! program handle them and keeps waiting for it, so the program still gets its grace period.

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{getpgrp, getppid};
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};

/// The hidden subcommand that runs [`run`].
pub const GUARD_COMMAND: &str = "guard-child";

/// The arguments that make `mcp-runtime` run `program args…` under the guard, for a parent
/// whose pid is `parent`.
pub fn guarded_args(parent: u32, program: &std::path::Path, args: &[String]) -> Vec<OsString> {
    let mut all: Vec<OsString> = vec![
        GUARD_COMMAND.into(),
        "--parent".into(),
        parent.to_string().into(),
        "--".into(),
        program.as_os_str().to_owned(),
    ];
    all.extend(args.iter().map(OsString::from));
    all
}

/// Runs `command` (program and arguments) as described in the module docs.
pub fn run(parent: u32, command: &[OsString]) -> ExitCode {
    let Some((program, args)) = command.split_first() else {
        tracing::error!(target: crate::CONSOLE, "guard-child: no command to run");
        return ExitCode::from(2);
    };
    if let Err(error) = set_pdeathsig(Signal::SIGUSR1) {
        tracing::error!(target: crate::CONSOLE, "guard-child: cannot ask to be told when the parent dies: {error}");
        return ExitCode::from(1);
    }
    // The parent may have died before the request above took effect; then no signal comes.
    if u32::try_from(getppid().as_raw()).ok() != Some(parent) {
        return ExitCode::from(1);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(target: crate::CONSOLE, "guard-child: {error}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(supervise(program, args))
}

async fn supervise(program: &OsString, args: &[OsString]) -> ExitCode {
    // Handlers first, so no signal is missed between the start of the child and the wait.
    let handlers = (
        signal(SignalKind::user_defined1()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    );
    let (Ok(mut parent_died), Ok(mut terminate), Ok(mut interrupt), Ok(mut hangup)) = handlers
    else {
        tracing::error!(target: crate::CONSOLE, "guard-child: cannot handle signals");
        return ExitCode::from(1);
    };
    let mut child = match tokio::process::Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(error) => {
            tracing::error!(
                target: crate::CONSOLE,
                "guard-child: starting {}: {error}",
                program.to_string_lossy()
            );
            return ExitCode::from(127);
        }
    };
    loop {
        tokio::select! {
            status = child.wait() => {
                return match status {
                    Ok(status) => match (status.code(), status.signal()) {
                        (Some(code), _) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                        (None, Some(signal)) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)),
                        (None, None) => ExitCode::from(1),
                    },
                    Err(_) => ExitCode::from(1),
                };
            }
            _ = parent_died.recv() => {
                // Everything in the group, this process included.
                let _ = killpg(getpgrp(), Signal::SIGKILL);
                return ExitCode::from(137);
            }
            // The group got these from `up`; the program decides what they mean.
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
            _ = hangup.recv() => {}
        }
    }
}
