//! `mcp-runtime setup`: install mcp-runtime into a cluster (or `--uninstall` it), step by step.

use anyhow::{Context, Result, bail};
use mcp_runtime_admin::connect::Target;
use mcp_runtime_admin::install::{Kinds, Outcome, apply_step};
use mcp_runtime_admin::plan::{self, OPERATOR, Options, SENTINEL, SentinelStore};
use mcp_runtime_admin::{preflight, readiness, uninstall};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Install mcp-runtime into the current cluster: the CRDs, the namespaces `mcp-runtime` and
/// `mcp-servers`, RBAC, the operator and Sentinel, by server-side apply (field manager
/// `mcp-runtime-setup`). Safe to run again: an unchanged install stays unchanged.
///
/// Before writing anything it checks the server version (1.26 or later), your permissions for
/// every object (SelfSubjectAccessReview) and what is installed already, so a refused setup
/// changes nothing.
#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// Print the manifests instead of installing them (no cluster needed).
    #[arg(long)]
    dry_run: bool,
    /// The mcp-runtime image the operator, the gateways and Sentinel run.
    #[arg(long, value_name = "IMAGE", default_value_t = plan::default_image(env!("CARGO_PKG_VERSION")))]
    image: String,
    /// Do not install Sentinel (gateways then audit to nothing unless a server sets
    /// spec.analytics.ingestURL).
    #[arg(long)]
    without_sentinel: bool,
    /// Store Sentinel's events in this PostgreSQL database (postgres://USER:PASSWORD@HOST/DB; kept
    /// in a Secret). Default: SQLite on a PersistentVolumeClaim.
    #[arg(long, value_name = "URL", conflicts_with = "without_sentinel")]
    sentinel_store: Option<String>,
    /// Size of Sentinel's SQLite volume.
    #[arg(long, value_name = "SIZE", default_value = "1Gi")]
    sentinel_storage: String,
    /// Sign the gateways' audit chains with this Ed25519 key (PKCS#8 PEM, as `openssl genpkey
    /// -algorithm ed25519` writes it). It goes into the Secret mcp-audit-signing of the servers
    /// namespace, which the operator mounts into each gateway; its public half goes to Sentinel,
    /// which then checks checkpoints on receipt. Give it on every setup run: a run without it
    /// turns signing off. Keep the public key yourself for `sentinel verify --public-key`.
    #[arg(long, value_name = "FILE")]
    audit_signing_key: Option<std::path::PathBuf>,
    /// Namespace of the operator and Sentinel.
    #[arg(long, value_name = "NAMESPACE", default_value = "mcp-runtime")]
    namespace: String,
    /// Namespace created for MCP servers.
    #[arg(long, value_name = "NAMESPACE", default_value = "mcp-servers")]
    servers_namespace: String,
    /// Wait until the operator (and Sentinel) run, up to TIMEOUT (e.g. 2m); if they do not, say
    /// exactly why and exit 1.
    #[arg(long, value_name = "TIMEOUT", value_parser = parse_timeout)]
    wait: Option<Duration>,
    /// Remove what setup installed instead (the CRDs, and with them every server, only with
    /// --crds).
    #[arg(long)]
    uninstall: bool,
    /// With --uninstall: also delete the CRDs, which deletes every MCPServer, MCPAccessGrant and
    /// MCPAgentSession in the cluster.
    #[arg(long, requires = "uninstall")]
    crds: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Which cluster: as kubectl finds it.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", global = true)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
}

impl ClusterArgs {
    pub fn target(&self) -> Target {
        Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    mcp_runtime_sentinel::parse_duration(value)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{value:?} is not a duration such as 90s, 2m or 1h"))
}

pub fn run(args: &SetupArgs) -> Result<ExitCode> {
    let sentinel = if args.without_sentinel {
        None
    } else {
        Some(match &args.sentinel_store {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                SentinelStore::Postgres { url: url.clone() }
            }
            Some(other) => bail!(
                "--sentinel-store takes a postgres:// URL, not {other:?} (without it, Sentinel keeps SQLite on a volume)"
            ),
            None => SentinelStore::Sqlite {
                size: args.sentinel_storage.clone(),
            },
        })
    };
    let options = Options {
        namespace: args.namespace.clone(),
        servers_namespace: args.servers_namespace.clone(),
        image: args.image.clone(),
        sentinel,
        sentinel_read_key: Some(random_key()?),
        audit_signing: args
            .audit_signing_key
            .as_deref()
            .map(read_audit_signing_key)
            .transpose()?,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    if args.dry_run && !args.uninstall {
        print!("{}", plan::to_yaml(&plan::plan(&options)?));
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        if args.uninstall {
            uninstall_all(args, options).await
        } else {
            install_all(args, options).await
        }
    })
}

/// The key pair of `--audit-signing-key FILE`, checked before anything is written.
fn read_audit_signing_key(path: &std::path::Path) -> Result<plan::AuditSigning> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("--audit-signing-key {}: cannot read it", path.display()))?;
    let signer = mcp_runtime_audit::Signer::from_pem(&pem).with_context(|| {
        format!(
            "--audit-signing-key {}: expected an Ed25519 private key in PKCS#8 PEM \
             (openssl genpkey -algorithm ed25519 -out FILE)",
            path.display()
        )
    })?;
    Ok(plan::AuditSigning {
        private_pem: pem,
        public_pem: signer.public_key_pem(),
    })
}

async fn install_all(args: &SetupArgs, mut options: Options) -> Result<ExitCode> {
    let mut progress = Progress::new();
    let (client, url) = mcp_runtime_admin::connect(&args.cluster.target()).await?;
    let mut kinds = Kinds::new(client.clone());
    let steps = plan::plan(&options)?;
    progress.start("Preflight checks");
    let findings = preflight::for_install(&client, &mut kinds, &steps, &options.namespace).await;
    let findings = match findings {
        Ok(findings) => findings,
        Err(e) => {
            progress.fail("Preflight checks");
            return Err(e.into());
        }
    };
    progress.done(&format!(
        "Preflight checks: Kubernetes {} at {url}, permissions granted",
        findings.server_version
    ));
    for note in &findings.notes {
        progress.note(note);
    }
    let version = &options.version;
    match &findings.installed_version {
        Some(installed) if installed == version => progress.note(&format!(
            "mcp-runtime {installed} is installed in {}: applying it again",
            options.namespace
        )),
        Some(installed) => progress.note(&format!(
            "upgrading mcp-runtime {installed} in {} to {version}",
            options.namespace
        )),
        None => {}
    }
    // An existing read key stays: clients already use it.
    if options.sentinel.is_some()
        && preflight::has_secret(&client, &options.namespace, &format!("{SENTINEL}-keys")).await?
    {
        options.sentinel_read_key = None;
    }
    for step in plan::plan(&options)? {
        progress.start(step.title);
        let outcomes = match apply_step(&mut kinds, &step).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                progress.fail(step.title);
                return Err(e.into());
            }
        };
        progress.done(&format!("{}: {}", step.title, summary(&outcomes)));
        for (object, outcome) in &outcomes {
            if *outcome == Outcome::LeftAsFound {
                progress.note(&format!("{object} existed before setup: used as it is"));
            }
        }
    }
    if let Some(timeout) = args.wait {
        let mut names = vec![OPERATOR];
        if options.sentinel.is_some() {
            names.push(SENTINEL);
        }
        let what = format!("Waiting for {}", names.join(" and "));
        progress.start(&what);
        let deadline = Instant::now() + timeout;
        loop {
            let problems = readiness::problems(&client, &options.namespace, &names).await?;
            if problems.is_empty() {
                progress.done(&format!("{} running", names.join(" and ")));
                break;
            }
            if Instant::now() >= deadline {
                progress.fail(&format!("not running after {}:", humanize(timeout)));
                for problem in problems {
                    eprintln!("  - {problem}");
                }
                return Ok(ExitCode::from(1));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    eprintln!(
        "\nmcp-runtime {version} is installed in namespace {}. Servers go in {}:\n  kubectl apply -f examples/02-gateway-with-grants.yaml",
        options.namespace, options.servers_namespace
    );
    Ok(ExitCode::SUCCESS)
}

async fn uninstall_all(args: &SetupArgs, options: Options) -> Result<ExitCode> {
    let mut progress = Progress::new();
    let (client, _) = mcp_runtime_admin::connect(&args.cluster.target()).await?;
    let mut kinds = Kinds::new(client.clone());
    let steps = plan::everything(&options)?;
    progress.start("Preflight checks");
    if let Err(e) = preflight::permissions(
        &client,
        &mut kinds,
        &steps,
        &["get", "delete"],
        "uninstall mcp-runtime",
    )
    .await
    {
        progress.fail("Preflight checks");
        return Err(e.into());
    }
    progress.done("Preflight checks: permissions granted");
    if args.crds {
        let custom = uninstall::count_custom(&client).await;
        progress.note(&format!(
            "WARNING: deleting the CRDs deletes every MCPServer, MCPAccessGrant and MCPAgentSession in the cluster: {}, {}, {}",
            plural(custom.servers, "server"),
            plural(custom.grants, "grant"),
            plural(custom.sessions, "session")
        ));
    }
    let (removals, kept) = uninstall::removals(
        &client,
        &mut kinds,
        &steps,
        args.crds,
        &options.servers_namespace,
    )
    .await?;
    if removals.is_empty() && kept.is_empty() {
        progress.note(&format!(
            "nothing to remove: no install by mcp-runtime setup found in {}",
            options.namespace
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let mut stuck = Vec::new();
    for removal in &removals {
        let what = format!("Removing {}", removal.description);
        progress.start(&what);
        if uninstall::remove(removal, Duration::from_secs(120)).await? {
            progress.done(&format!("Removed {}", removal.description));
        } else {
            progress.fail(&format!(
                "{} is still being deleted after 2 min",
                removal.description
            ));
            stuck.push(removal.description.clone());
        }
    }
    for object in kept {
        progress.note(&format!("kept {object}"));
    }
    if !args.crds {
        progress
            .note("kept the CRDs and every MCPServer, grant and session (remove them with --crds)");
    }
    Ok(if stuck.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn summary(outcomes: &[(String, Outcome)]) -> String {
    let count = |wanted: Outcome| outcomes.iter().filter(|(_, o)| *o == wanted).count();
    let mut parts = Vec::new();
    for (outcome, word) in [
        (Outcome::Created, "created"),
        (Outcome::Updated, "updated"),
        (Outcome::Unchanged, "unchanged"),
        (Outcome::LeftAsFound, "already there"),
    ] {
        let n = count(outcome);
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    parts.join(", ")
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn humanize(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

/// 24 random bytes as hex, for the Sentinel read key.
fn random_key() -> Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for the Sentinel read key")?;
    Ok(hex::encode(bytes))
}

/// Step-by-step progress on stderr: on a terminal a spinner turns next to the running step and
/// a check mark replaces it when done; otherwise (CI logs, pipes) plain lines.
struct Progress {
    terminal: bool,
    /// The running step; the spinner thread draws it. Every line goes through this lock, so the
    /// spinner never writes into the middle of one.
    current: Arc<Mutex<Option<String>>>,
}

impl Progress {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

    fn new() -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let current = Arc::new(Mutex::new(None::<String>));
        if terminal {
            let shared = current.clone();
            std::thread::spawn(move || {
                for frame in Self::FRAMES.iter().cycle() {
                    if let Some(what) = shared.lock().unwrap_or_else(|p| p.into_inner()).as_deref()
                    {
                        eprint!("\r\x1b[2K{frame} {what}");
                        let _ = std::io::stderr().flush();
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        Progress { terminal, current }
    }

    fn start(&mut self, what: &str) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if !self.terminal {
            eprintln!("... {what}");
        }
        *current = Some(what.to_owned());
    }

    fn finish(&mut self, mark: &str, line: &str) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if self.terminal {
            eprint!("\r\x1b[2K");
        }
        *current = None;
        eprintln!("{mark} {line}");
    }

    fn done(&mut self, line: &str) {
        self.finish("✓", line);
    }

    fn fail(&mut self, line: &str) {
        self.finish("✗", line);
    }

    fn note(&mut self, line: &str) {
        let _current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if self.terminal {
            eprint!("\r\x1b[2K");
        }
        eprintln!("  {line}");
    }
}
