# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcp_runtime_global_optspecs
    string join \n h/help V/version
end

function __fish_mcp_runtime_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcp_runtime_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcp_runtime_using_subcommand
    set -l cmd (__fish_mcp_runtime_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "up" -d 'Run the whole platform on this machine from a directory of manifests (no cluster needed)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "status" -d 'Show the servers of a running `mcp-runtime up`: phase, URL, tools and problems'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "setup" -d 'Install mcp-runtime into a cluster (CRDs, namespaces, RBAC, operator, Sentinel), or remove it with --uninstall'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "operator" -d 'Run the Kubernetes operator (controllers for the three CRDs)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "gateway" -d 'Run the MCP gateway (the policy-enforcing reverse proxy)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "sentinel" -d 'Run Sentinel (audit ingest, storage, query API and UI)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "bridge" -d 'Serve a stdio MCP server over streamable HTTP: `mcp-runtime bridge -- CMD [ARGS…]`'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "install" -d 'Copy this executable elsewhere (the stdio pod\'s init container runs it)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "crd" -d 'Print the CustomResourceDefinitions as YAML (for `kubectl apply -f -`)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "validate" -d 'Validate manifests as the cluster would (schema, defaults and CEL rules) without applying'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "import" -d 'Convert kubernetes-sigs mcp-lifecycle-operator (mcp.x-k8s.io) MCPServers to this API'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "policy" -d 'Work with rendered policy documents'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "server" -d 'Work with MCPServers: metadata, manifests, client configuration and the cluster verbs'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "catalog" -d 'Browse the tools the MCPServers declare, and their drift from what the servers list live'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "access" -d 'Inspect access: explain decisions for a caller and a tool, simulate a change over the recorded traffic, manage grants and sessions'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "adapter" -d 'Run the client-side adapter (a local proxy or a stdio server) that forwards to a gateway-guarded server with the identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "example-server" -d 'Run the built-in example MCP server (stdio, or streamable HTTP with --http ADDR)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "guard-child" -d 'Run a command that dies with its parent (used by `up` for every server it starts)'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "probe" -d 'Exit 0 when something accepts TCP connections at ADDRESS (within 1 s), 1 otherwise: the probe of a stdio server whose bridge listens on the pod\'s loopback address only'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c mcp-runtime -n "__fish_mcp_runtime_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -s f -l filename -d 'Directory of manifests (`*.yaml`, `*.yml`, `*.json`, not recursive)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l port -d 'Port of the gateway, the status endpoint and the Sentinel UI' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l listen -d 'Address to listen on. Keep loopback unless callers elsewhere are trusted: the default header identity believes the X-MCP-* headers it receives' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l state-dir -d 'Where local state lives (the embedded Sentinel\'s database and the audit spool)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l cluster -d 'Cluster name written into policies and audit events' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l default-human-id -d 'Human ID for requests that carry no identity header at all (clients that cannot set headers, such as the MCP Inspector CLI). Default: $USER when listening on loopback, none otherwise. An empty value turns it off' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l tls-cert-file -d 'Also serve every route over TLS on --tls-port with this certificate chain (PEM), for servers with `auth.mode: mtls` (which the plain port refuses). Reloaded when it changes' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l tls-key-file -d 'The private key of --tls-cert-file (PEM)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l tls-client-ca-file -d 'CA certificates (PEM) that client certificates are verified against on the TLS port' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l tls-port -d 'The TLS port (with --tls-cert-file); `0` picks a free one (printed on start)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -l upstream-token-dir -d 'Where the sessions\' upstream tokens (an MCPAgentSession\'s upstreamTokenSecretRef) are read, as <DIR>/<namespace>/<secret>/<key>; when that file does not exist, the variable MCP_UPSTREAM_TOKEN_<SECRET>_<KEY> (upper case, - and . as _). Default: <state-dir>/upstream-tokens' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand up" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -l url -d 'Base URL of the running `mcp-runtime up` (default: http://127.0.0.1:PORT)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -l port -d 'Port of the running `mcp-runtime up` on this machine, as given to `up --port` (the same variable, so one export serves both); `--url` wins when both are set' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -l cluster -d 'Show the cluster (the current kubectl context, or --kubeconfig / --context)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -l local -d 'Show the local `mcp-runtime up`'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand status" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l image -d 'The mcp-runtime image the operator, the gateways and Sentinel run' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l sentinel-store -d 'Store Sentinel\'s events in this PostgreSQL database (postgres://USER:PASSWORD@HOST/DB; kept in a Secret). Default: SQLite on a PersistentVolumeClaim' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l sentinel-storage -d 'Size of Sentinel\'s SQLite volume' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l audit-signing-key -d 'Sign the gateways\' audit chains with this Ed25519 key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes it). It goes into the Secret mcp-audit-signing of the servers namespace, which the operator mounts into each gateway; its public half goes to Sentinel, which then checks checkpoints on receipt. Give it on every setup run: a run without it turns signing off. Keep the public key yourself for `sentinel verify --public-key`' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l namespace -d 'Namespace of the operator and Sentinel' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l servers-namespace -d 'Namespace created for MCP servers' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l wait -d 'Wait until the operator (and Sentinel) run, up to TIMEOUT (e.g. 2m); if they do not, say exactly why and exit 1' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l dry-run -d 'Print the manifests instead of installing them (no cluster needed)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l without-sentinel -d 'Do not install Sentinel (gateways then audit to nothing unless a server sets spec.analytics.ingestURL)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l uninstall -d 'Remove what setup installed instead (the CRDs, and with them every server, only with --crds)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -l crds -d 'With --uninstall: also delete the CRDs, which deletes every MCPServer, MCPAccessGrant and MCPAgentSession in the cluster'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand setup" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l leader-elect -d 'Take a Lease before reconciling, so only one replica acts (`--leader-elect=false` to disable, e.g. for a single replica run locally)' -r -f -a "true\t''
false\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l health-addr -d 'Address of `/healthz` and `/readyz`' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l metrics-addr -d 'Address of Prometheus `/metrics` (may equal --health-addr)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l namespace -d 'Watch only this namespace (default: all namespaces)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l lease-namespace -d 'Namespace of the leader-election Lease (the operator\'s own)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l lease-name -d 'Name of the leader-election Lease' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l lease-duration-seconds -d 'Lease duration; the holder renews every third of it' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -l identity -d 'This replica\'s identity in the Lease' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand operator" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l port -d 'Port to listen on' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l address -d 'Address to listen on' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l upstream-url -d 'The MCP server to forward to, e.g. http://127.0.0.1:8088' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l policy-file -d 'The policy document, reloaded when it changes' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l policy-configmap -d 'Also watch the policy ConfigMap `<namespace>/<name>` (key `policy.json`) through the Kubernetes API, so a revocation arrives within about a second instead of after the kubelet\'s refresh of the mounted file. Uses the in-cluster ServiceAccount token, or KUBECONFIG. The file stays the fallback: the newest valid document of either wins, and a watch that fails keeps the last good policy (reported on /config/status and in metrics)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l strip-prefix -d 'Path prefix removed before forwarding' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l upstream-timeout -d 'How long the upstream may take to start its response before the caller gets a 504 (`upstream_timeout`, audited); a response that has started streaming is never cut' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l auth-mode -d 'Caller identification. The policy document\'s `auth.mode` decides; this may only repeat it (a different value is refused) or fill it when the document has none (default then: `header`). `none`, `header`, `oauth` (bearer JWTs from the policy\'s `auth.issuer_url`) or `mtls` (a client certificate whose SPIFFE ID names a live session; needs TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE, without which every MCP request is refused with 503 `auth_mode_unavailable`)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l policy-mode -d 'Policy mode when the document has none: `allow-list` or `observe`' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l policy-default-decision -d 'Default decision when the document has none: `deny` or `allow`' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l policy-version -d 'Policy version reported when the document has none' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l human-id-header -d 'Human ID header when the document names none (default X-MCP-Human-ID)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l agent-id-header -d 'Agent ID header when the document names none (default X-MCP-Agent-ID)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l team-id-header -d 'Team ID header when the document names none (default X-MCP-Team-ID)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l session-id-header -d 'Session ID header when the document names none (default X-MCP-Agent-Session)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l worker-threads -d 'Threads that serve requests. Default: one per CPU of the process\'s CPU limit (its cgroup quota, as a Kubernetes CPU limit sets it, or a narrower CPU set), at most 4; without a limit, 1. With 1 the whole gateway runs on one thread, so a request never crosses threads between the caller\'s connection and the upstream\'s' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l deny-encoding -d 'How denials are written: `jsonrpc` (JSON-RPC errors, the default) or `http` (the Go mcp-runtime\'s 401/403/503 JSON bodies)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l analytics-ingest-url -d 'Sentinel ingest URL for audit events (batched, spooled to disk while unreachable); `http://` or `https://`' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l analytics-ca-bundle -d 'For an https ingest: CA certificates (PEM) to trust instead of the system\'s trust store' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l analytics-client-cert -d 'For an https ingest that wants mTLS: the client certificate chain (PEM)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l analytics-client-key -d 'The client certificate\'s private key (PEM)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l analytics-api-key -d 'API key sent as `x-api-key` to the ingest' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l analytics-source -d 'Audit event source. Default `<server>-gateway`' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l analytics-event-type -d 'Audit event type' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l audit-spool-dir -d 'Directory for audit events the ingest has not acknowledged yet' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l audit-spool-max-bytes -d 'Bound on the spool\'s size on disk, in bytes. While the ingest is unreachable, events that no longer fit are dropped and counted in `mcp_gateway_audit_dropped_events_total`' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l audit-signing-key-file -d 'Ed25519 private key (PKCS#8 PEM, e.g. from `openssl genpkey -algorithm ed25519`) that signs checkpoints of this gateway\'s audit chain. Without it, events are still chained but the chain head is never signed' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l audit-checkpoint-interval -d 'How often the audit chain head is signed when it moved (also at shutdown)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l server-name -d 'Server name for audit events' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l server-namespace -d 'Server namespace for audit events' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l team-id -d 'Owning team for audit events' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l cluster-name -d 'Cluster name for audit events' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l metrics-port -d 'Separate port serving only `/metrics` (0 disables it; `/metrics` is also on the main port)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l allowed-origins -d 'Browser origins accepted besides the gateway\'s own, comma-separated (`*`: any). Requests carrying another `Origin` get 403 (DNS-rebinding protection)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l max-body-bytes -d 'Largest accepted request body, in bytes' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l max-concurrent-bodies -d 'Request bodies read at once; one more is answered 503 with `Retry-After: 1`. Bounds the memory that bodies in flight take (this many times MAX_BODY_BYTES) against slow or many callers' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l external-base-url -d 'The gateway\'s public base URL, e.g. https://mcp.example.com (oauth mode): the resource URL is this plus the request path, published in the protected-resource metadata and expected as the token audience when the policy\'s `auth.audience` is empty. Unset: taken from each request\'s Host, which is trusted as an audience only on a loopback listener' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l tls-cert-file -d 'Serve HTTPS with this certificate chain (PEM, leaf first): the gateway terminates TLS itself, as `auth.mode: mtls` needs. Reloaded when it changes' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l tls-key-file -d 'The private key of TLS_CERT_FILE (PEM: PKCS#8, PKCS#1 or SEC1). Reloaded when it changes' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l tls-client-ca-file -d 'CA certificates (PEM) that client certificates are verified against; a certificate from another CA ends the handshake. Reloaded when it changes' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l tls-reload-interval -d 'How often the TLS files are checked for changes; new handshakes use the new files, established connections keep theirs' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l trusted-proxy-spiffe-id -d 'The ingress-terminated mtls variant: the URI SAN (a SPIFFE ID) of the proxy that terminates the clients\' TLS. Only a peer whose verified certificate carries it is believed, and the caller\'s identity is then the SPIFFE ID it forwards in X-MCP-Verified-SPIFFE-ID. Unset: the caller\'s own certificate is the identity' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l upstream-token-dir -d 'Where the sessions\' own upstream tokens are read, as <DIR>/<namespace>/<secret>/<key> (an MCPAgentSession\'s upstreamTokenSecretRef; the operator projects those Secret keys here). Read again for every request that carries one, so a rotation needs no restart' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l oauth-leeway-seconds -d 'Clock skew tolerated on a token\'s `exp` and `nbf`, in seconds (oauth mode)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l oauth-verified-token-cache -d 'How many verified bearer tokens are remembered (oauth mode): a token\'s signature is checked on its first use, and its `exp`, `nbf` and audience on every use; a key refresh forgets them all. 0 checks the signature on every request' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l audit-stdout -d 'Also write every audit event to stdout as a JSON line'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -l oauth-allow-http-issuer -d 'Accept a plain-http issuer (and key set) on a non-loopback host (oauth mode). Without it only https is used, except for loopback hosts'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand gateway" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l address -d 'Address to listen on' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l port -d 'Port to listen on (0: any free port)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l store -d 'Where events are stored: sqlite://PATH (embedded, the default) or postgres://USER@HOST/DB' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l api-keys -d 'API keys accepted by POST /events in `x-api-key`, comma-separated (also read from INGEST_API_KEYS or API_KEYS). Without any key, ingest is open to anyone who can reach it' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l read-api-keys -d 'API keys required by the query API (/api/v1/*) in `x-api-key`, comma-separated. Without any, the query API and the UI are open' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l retention -d 'Delete events older than this (e.g. 7d, 12h, 30d); `off` keeps everything' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l max-body-bytes -d 'Largest accepted POST /events body, in bytes' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l audit-public-key -d 'Public keys (PEM files, comma-separated) trusted to sign the gateways\' audit-chain checkpoints: each checkpoint is marked valid or invalid on receipt. Without any, they are stored unchecked' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -l insecure-open -d 'Serve ingest or the query API without keys on an address that is not loopback. Without this, Sentinel refuses to start that way: anyone who can reach it could write or read the audit trail'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -f -a "serve" -d 'Run the Sentinel server (the default when no subcommand is given)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -f -a "status" -d 'Show a running Sentinel\'s health and event totals'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -f -a "events" -d 'List events from a running Sentinel, newest first, with filters'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -f -a "verify" -d 'Re-verify stored audit events against their hash chains and the signed checkpoints; report every edited, removed or reordered event and exit non-zero when there is one'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and not __fish_seen_subcommand_from serve status events verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l address -d 'Address to listen on' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l port -d 'Port to listen on (0: any free port)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l store -d 'Where events are stored: sqlite://PATH (embedded, the default) or postgres://USER@HOST/DB' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l api-keys -d 'API keys accepted by POST /events in `x-api-key`, comma-separated (also read from INGEST_API_KEYS or API_KEYS). Without any key, ingest is open to anyone who can reach it' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l read-api-keys -d 'API keys required by the query API (/api/v1/*) in `x-api-key`, comma-separated. Without any, the query API and the UI are open' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l retention -d 'Delete events older than this (e.g. 7d, 12h, 30d); `off` keeps everything' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l max-body-bytes -d 'Largest accepted POST /events body, in bytes' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l audit-public-key -d 'Public keys (PEM files, comma-separated) trusted to sign the gateways\' audit-chain checkpoints: each checkpoint is marked valid or invalid on receipt. Without any, they are stored unchecked' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -l insecure-open -d 'Serve ingest or the query API without keys on an address that is not loopback. Without this, Sentinel refuses to start that way: anyone who can reach it could write or read the audit trail'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from serve" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -l url -d 'Base URL of the Sentinel' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -l sentinel-namespace -d 'Namespace of the in-cluster Sentinel (with --in-cluster)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -l api-key -d 'API key for the query API, when it requires one' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text'
json\t'The API\'s JSON'"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -l in-cluster -d 'Ask the Sentinel that `mcp-runtime setup` installed in the cluster instead of --url: through the API server\'s service proxy, with the read key from its Secret'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l url -d 'Base URL of the Sentinel' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l sentinel-namespace -d 'Namespace of the in-cluster Sentinel (with --in-cluster)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l api-key -d 'API key for the query API, when it requires one' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text'
json\t'The API\'s JSON'"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l server -d 'Only this MCPServer' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l agent -d 'Only this agent identity' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l human -d 'Only this human identity' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l session -d 'Only this session id' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l tool -d 'Only this tool' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l decision -d 'Only allowed or only denied calls' -r -f -a "allow\t''
deny\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l reason -d 'Only this decision reason (e.g. trust_too_low)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l namespace -d 'Only this namespace' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l cluster -d 'Only this cluster' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l source -d 'Only this event source (e.g. files-gateway)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l event-type -d 'Only this event type (e.g. mcp.request)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l trace-id -d 'Only this trace id' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l since -d 'Events since: RFC 3339, Unix seconds, or a duration ago (15m, 24h, 7d)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l until -d 'Events before: RFC 3339, Unix seconds, or a duration ago' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l limit -d 'Page size (1–1000)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l cursor -d 'Continue from a `next_cursor` printed by an earlier call' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -l in-cluster -d 'Ask the Sentinel that `mcp-runtime setup` installed in the cluster instead of --url: through the API server\'s service proxy, with the read key from its Secret'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from events" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l url -d 'Base URL of the Sentinel' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l sentinel-namespace -d 'Namespace of the in-cluster Sentinel (with --in-cluster)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l api-key -d 'API key for the query API, when it requires one' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable text'
json\t'The API\'s JSON'"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l store -d 'Read the store directly instead of asking a running Sentinel: sqlite://PATH (for `mcp-runtime up`, `sentinel.db` in its state directory) or postgres://…' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l since -d 'Verify events since: RFC 3339, Unix seconds, or a duration ago (15m, 24h, 7d)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l chain -d 'Only this chain (a gateway instance\'s chain id)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l public-key -d 'A public key trusted to sign checkpoints (PEM from `openssl pkey -pubout`, or base64 of the 32 raw bytes); repeatable. Take it from where the key was made, never from the store' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -l in-cluster -d 'Ask the Sentinel that `mcp-runtime setup` installed in the cluster instead of --url: through the API server\'s service proxy, with the read key from its Secret'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from help" -f -a "serve" -d 'Run the Sentinel server (the default when no subcommand is given)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show a running Sentinel\'s health and event totals'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from help" -f -a "events" -d 'List events from a running Sentinel, newest first, with filters'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Re-verify stored audit events against their hash chains and the signed checkpoints; report every edited, removed or reordered event and exit non-zero when there is one'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand sentinel; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l port -d 'Port to listen on, on all interfaces (the MCPServer\'s `port`)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l listen -d 'Address to listen on, e.g. 127.0.0.1:8088 (port 0 picks a free one); overrides --port' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l path -d 'The MCP endpoint path' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l stdin-close-grace -d 'Seconds a server process gets to exit after its stdin is closed, before SIGTERM' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l sigterm-grace -d 'Seconds a server process gets to exit after SIGTERM, before SIGKILL' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l max-sessions -d 'Most concurrent sessions (one server process each); more get 503' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l session-idle-timeout -d 'Seconds after which a session without requests or open streams is ended (0: never)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l max-body-bytes -d 'Largest accepted request body, in bytes' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l allowed-origins -d 'Browser origins accepted besides loopback ones and the bridge\'s own host, comma-separated (`*`: any). Requests carrying another `Origin` get 403' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -l exit-on-stdin-eof -d 'Exit (stopping every server process) when the bridge\'s own stdin reaches end of file, so a supervising parent that dies takes the bridge with it'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand bridge" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand install" -l to -d 'Destination: an existing directory (the binary becomes DIR/mcp-runtime) or a file path' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand install" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand install" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand crd" -l output-dir -d 'Write one file per CRD (`<group>_<plural>.yaml`) into this directory instead of printing' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand crd" -l reference -d 'Print the API reference (Markdown, as in docs/api.md) instead of the CRDs'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand crd" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand crd" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand validate" -s f -l filename -d 'Manifest files or directories (directories are read like `kubectl apply -f DIR`)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand validate" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand validate" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand import" -s f -l filename -d 'Files holding `mcp.x-k8s.io` MCPServer manifests (multi-document YAML or JSON)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand import" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand import" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and not __fish_seen_subcommand_from render help" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and not __fish_seen_subcommand_from render help" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and not __fish_seen_subcommand_from render help" -f -a "render" -d 'Print the policy document (policy.json) the gateway of a server would load'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and not __fish_seen_subcommand_from render help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -s f -l filename -d 'Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -l server -d 'Name of the MCPServer' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -s n -l namespace -d 'Namespace of the MCPServer; needed only when several servers share the name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -l cluster -d 'Cluster name written into the policy (as the operator\'s `MCP_CLUSTER_NAME`)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -l live -d 'Read the server, grants and sessions from the cluster (the current context, or --kubeconfig / --context) instead of files'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from render" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "render" -d 'Print the policy document (policy.json) the gateway of a server would load'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "init" -d 'Write a server\'s metadata file (.mcp/NAME.yaml, the Go mcp-runtime\'s format): route, image, tools, gateway on, an allow-list policy and required sessions'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "generate" -d 'Turn the metadata files (.mcp/*.yaml) into MCPServer manifests, validated; nothing is written unless every server is valid'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "render" -d 'Print the objects the operator would apply for an MCPServer (policy ConfigMap, Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE, MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "apply" -d 'Validate manifests (as `mcp-runtime validate`) and, only if all are valid, apply them to the cluster by server-side apply (field manager `mcp-runtime`)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "list" -d 'List the MCPServers of a namespace (or every namespace with -A), with the CRD\'s columns'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "get" -d 'Print one MCPServer'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "status" -d 'Show an MCPServer\'s conditions and why it is not Ready'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "delete" -d 'Delete an MCPServer (the operator\'s garbage collection removes its children)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "connect-config" -d 'Print the configuration an MCP client (Claude Desktop, Cursor, VS Code) needs to reach a server: its URL and identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "pin" -d 'Write the digests of the server\'s live tool definitions into its manifest (spec.tools[].digest): from the cluster\'s status.toolDigests, or from a handshake with --url. The file is rewritten by the YAML serializer (comments are not kept)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "policy" -d 'Inspect the live policy of a server\'s gateway'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and not __fish_seen_subcommand_from init generate render apply list get status delete connect-config pin policy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l metadata-dir -d 'Directory of the metadata files' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -s n -l namespace -d 'Namespace written into the entry (default: left out, so `generate` decides)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l image -d 'Container image (default: the server\'s name)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l tag -d 'Image tag' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l port -d 'Container port of the MCP server' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l tool -d 'A tool the server offers (trust low, side effect read unless --tool-spec says otherwise)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l tool-spec -d 'A tool with its required trust and side effect, such as delete_note:high:destructive' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l tool-risk -d 'Risk level written on every tool (low, medium, high)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l policy-mode -d 'Policy mode: allow-list (enforce) or observe' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l default-decision -d 'Decision when no grant matches: deny or allow' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l session-required -d 'Require an MCPAgentSession on every tool call' -r -f -a "true\t''
false\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -l force -d 'Overwrite an existing file'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from generate" -l metadata-dir -d 'Directory of the metadata files (every *.yaml / *.yml in it)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from generate" -l metadata-file -d 'One metadata file instead of the directory' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from generate" -l output -d 'Directory the manifests are written to (one NAME.yaml per server), or - for standard output' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from generate" -s n -l namespace -d 'Namespace of entries that name none' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -s f -l filename -d 'Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -l server -d 'Name of the MCPServer' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -s n -l namespace -d 'Namespace of the MCPServer; needed only when several servers share the name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -l cluster -d 'Cluster name written into the policy (as the operator\'s `MCP_CLUSTER_NAME`)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -l live -d 'Read the server, grants and sessions from the cluster (the current context, or --kubeconfig / --context) instead of files'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from render" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from apply" -s f -l filename -d 'Manifest files or directories' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from apply" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from apply" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from apply" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from list" -s A -l all-namespaces -d 'Every namespace'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from get" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from get" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from get" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from status" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from delete" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from delete" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from delete" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l client -d 'The client to configure' -r -f -a "claude\t'Claude Desktop (claude_desktop_config.json): runs `mcp-runtime adapter stdio`'
cursor\t'Cursor (~/.cursor/mcp.json)'
vscode\t'VS Code (.vscode/mcp.json)'
json\t'A neutral description: name, URL, transport, headers'"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -s f -l filename -d 'Read the server from this manifest instead of the cluster' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l url -d 'The URL clients reach the server at (default: its status.url, or its ingress host and path)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l human-id -d 'Human identity to send (header mode; default: a placeholder to replace)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l agent-id -d 'Agent identity to send (header mode; default: a placeholder to replace)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l team-id -d 'Team to send (header mode)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l session-id -d 'MCPAgentSession to send (header mode; a placeholder when the server requires sessions)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -s o -l output -d 'Output format' -r -f -a "json\t''
yaml\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from connect-config" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from pin" -s f -l filename -d 'The manifest file holding the MCPServer; rewritten in place' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from pin" -l url -d 'Handshake with the server at this MCP URL (its own endpoint, not a gateway, which filters tools/list) instead of reading `status.toolDigests` from the cluster' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from pin" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from pin" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from pin" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from pin" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from pin" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from policy" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from policy" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from policy" -f -a "inspect" -d 'Show the policy a server\'s gateway enforces, from the live <NAME>-gateway-policy ConfigMap: its revision and whether it is the one the operator last reported (status.policyRevision), the mode and default decision, the grants and sessions it was rendered from (subject, trust, disabled, revoked, expired) and the tools. -o json|yaml prints the document itself'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from policy" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "init" -d 'Write a server\'s metadata file (.mcp/NAME.yaml, the Go mcp-runtime\'s format): route, image, tools, gateway on, an allow-list policy and required sessions'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Turn the metadata files (.mcp/*.yaml) into MCPServer manifests, validated; nothing is written unless every server is valid'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "render" -d 'Print the objects the operator would apply for an MCPServer (policy ConfigMap, Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE, MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Validate manifests (as `mcp-runtime validate`) and, only if all are valid, apply them to the cluster by server-side apply (field manager `mcp-runtime`)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the MCPServers of a namespace (or every namespace with -A), with the CRD\'s columns'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print one MCPServer'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show an MCPServer\'s conditions and why it is not Ready'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete an MCPServer (the operator\'s garbage collection removes its children)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "connect-config" -d 'Print the configuration an MCP client (Claude Desktop, Cursor, VS Code) needs to reach a server: its URL and identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "pin" -d 'Write the digests of the server\'s live tool definitions into its manifest (spec.tools[].digest): from the cluster\'s status.toolDigests, or from a handshake with --url. The file is rewritten by the YAML serializer (comments are not kept)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "policy" -d 'Inspect the live policy of a server\'s gateway'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and not __fish_seen_subcommand_from tools tool help" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and not __fish_seen_subcommand_from tools tool help" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and not __fish_seen_subcommand_from tools tool help" -f -a "tools" -d 'List the tools the MCPServers declare (spec.tools), one row per server and tool: side effect, required trust, risk, team and description. With --drift, compare the declared names with the tools each server lists live (status.tools, from the operator\'s handshake)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and not __fish_seen_subcommand_from tools tool help" -f -a "tool" -d 'Show one tool in detail: every server that declares it, and every server that lists it live without declaring it'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and not __fish_seen_subcommand_from tools tool help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l server -d 'Only the MCPServer of this name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l team -d 'Only servers of this team (spec.teamID)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l side-effect -d 'Only tools with this side effect' -r -f -a "read\t''
write\t''
destructive\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l trust -d 'Only tools that require this trust (requiredTrust; unset is low)' -r -f -a "low\t''
medium\t''
high\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l risk -d 'Only tools that declare this risk (riskLevel)' -r -f -a "low\t''
medium\t''
high\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -s q -l query -d 'Only tools whose name, description or a label (key, value or key=value) contains TEXT, ignoring case' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -l drift -d 'Compare the declared tools with the live ones: declared (declared and live), ungoverned (live, not declared: the policy does not know it), missing (declared, not live), pinned (pinned with spec.tools[].digest and listed live with another definition digest: tool drift; -o json shows both digests). Servers whose live inventory is unknown are named, never counted' -r -f -a "declared\t'Declared, and listed live: governed as declared'
ungoverned\t'Listed live but not declared: a tool the policy does not know'
missing\t'Declared but not listed live'
pinned\t'Declared with a pin (`spec.tools[].digest`), and listed live with another definition digest (`status.toolDigests`): tool drift, quarantined unless `onToolDrift: warn`'"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -s A -l all-namespaces -d 'Every namespace'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tools" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -s n -l namespace -d 'Namespace (objects that name their own keep it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l server -d 'Only the MCPServer of this name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l team -d 'Only servers of this team (spec.teamID)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l side-effect -d 'Only tools with this side effect' -r -f -a "read\t''
write\t''
destructive\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l trust -d 'Only tools that require this trust (requiredTrust; unset is low)' -r -f -a "low\t''
medium\t''
high\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l risk -d 'Only tools that declare this risk (riskLevel)' -r -f -a "low\t''
medium\t''
high\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -s q -l query -d 'Only tools whose name, description or a label (key, value or key=value) contains TEXT, ignoring case' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -l drift -d 'Compare the declared tools with the live ones: declared (declared and live), ungoverned (live, not declared: the policy does not know it), missing (declared, not live), pinned (pinned with spec.tools[].digest and listed live with another definition digest: tool drift; -o json shows both digests). Servers whose live inventory is unknown are named, never counted' -r -f -a "declared\t'Declared, and listed live: governed as declared'
ungoverned\t'Listed live but not declared: a tool the policy does not know'
missing\t'Declared but not listed live'
pinned\t'Declared with a pin (`spec.tools[].digest`), and listed live with another definition digest (`status.toolDigests`): tool drift, quarantined unless `onToolDrift: warn`'"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -s A -l all-namespaces -d 'Every namespace'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from tool" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "tools" -d 'List the tools the MCPServers declare (spec.tools), one row per server and tool: side effect, required trust, risk, team and description. With --drift, compare the declared names with the tools each server lists live (status.tools, from the operator\'s handshake)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "tool" -d 'Show one tool in detail: every server that declares it, and every server that lists it live without declaring it'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and not __fish_seen_subcommand_from explain simulate grant session help" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and not __fish_seen_subcommand_from explain simulate grant session help" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and not __fish_seen_subcommand_from explain simulate grant session help" -f -a "explain" -d 'Explain whether a caller may call a tool, and why: the grants considered, the session and the trust numbers. Exits 0 when allowed and 3 when denied'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and not __fish_seen_subcommand_from explain simulate grant session help" -f -a "simulate" -d 'Replay the recorded tool-call decisions (Sentinel, or `up`\'s embedded store) against the policies a proposed set of manifests would render, and report every decision that would change. Exits 3 when --fail-on-new-deny or --fail-on-new-allow matches'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and not __fish_seen_subcommand_from explain simulate grant session help" -f -a "grant" -d 'MCPAccessGrants in the cluster: init, apply, list, get, enable, disable, delete'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and not __fish_seen_subcommand_from explain simulate grant session help" -f -a "session" -d 'MCPAgentSessions in the cluster: init, apply, list, get, revoke, unrevoke, delete'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and not __fish_seen_subcommand_from explain simulate grant session help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -s f -l filename -d 'Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l kubeconfig -d 'Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l context -d 'The kubeconfig context to use (default: its current context)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l server -d 'Name of the MCPServer' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -s n -l namespace -d 'Namespace of the MCPServer; needed only when several servers share the name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l cluster -d 'Cluster name written into the policy (as the operator\'s `MCP_CLUSTER_NAME`)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l human -d 'The caller\'s human identity' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l agent -d 'The caller\'s agent identity' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l team -d 'The caller\'s team identity' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l session -d 'The agent session the caller presents' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l tool -d 'The tool to call' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l at -d 'Evaluate at this time (RFC 3339) instead of now, e.g. to check an expiry' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -l live -d 'Read the server, grants and sessions from the cluster (the current context, or --kubeconfig / --context) instead of files'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from explain" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -s f -l filename -d 'Directory (or file) of the proposed MCPServer, MCPAccessGrant and MCPAgentSession manifests: every server\'s policy is rendered from them' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l since -d 'How far back to replay: a duration such as 90m, 24h, 7d or 2w' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l sentinel-url -d 'Read the recorded decisions from this Sentinel (its query API)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l api-key -d 'API key for the Sentinel\'s query API, when it requires one' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l store -d 'Read the recorded decisions from this store directly: sqlite://PATH or postgres://…' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l state-dir -d 'The state directory of `mcp-runtime up`, whose embedded store is read when neither --sentinel-url nor --store is given' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l cluster -d 'Cluster name written into the rendered policies (as the operator\'s `MCP_CLUSTER_NAME`)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l fail-on-new-deny -d 'Exit with status 3 when a recorded allow would be denied'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -l fail-on-new-allow -d 'Exit with status 3 when a recorded deny would be allowed'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from simulate" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "init" -d 'Print an MCPAccessGrant manifest (validated), ready for `access grant apply -f -`'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "apply" -d 'Validate and apply grant manifests (nothing is applied if one is refused)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "list" -d 'List the grants of a namespace (or every namespace with -A)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "get" -d 'Print one grant'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "enable" -d 'Enable a grant (spec.disabled: false)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "disable" -d 'Disable a grant without deleting it (spec.disabled: true)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "delete" -d 'Delete a grant'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from grant" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "init" -d 'Print an MCPAgentSession manifest (validated), ready for `access session apply -f -`'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "apply" -d 'Validate and apply session manifests (nothing is applied if one is refused)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "list" -d 'List the sessions of a namespace (or every namespace with -A)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "get" -d 'Print one session'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "revoke" -d 'Revoke a session (spec.revoked: true): its calls are denied from the next policy'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "unrevoke" -d 'Undo a revocation'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "delete" -d 'Delete a session'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from session" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from help" -f -a "explain" -d 'Explain whether a caller may call a tool, and why: the grants considered, the session and the trust numbers. Exits 0 when allowed and 3 when denied'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from help" -f -a "simulate" -d 'Replay the recorded tool-call decisions (Sentinel, or `up`\'s embedded store) against the policies a proposed set of manifests would render, and report every decision that would change. Exits 3 when --fail-on-new-deny or --fail-on-new-allow matches'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from help" -f -a "grant" -d 'MCPAccessGrants in the cluster: init, apply, list, get, enable, disable, delete'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from help" -f -a "session" -d 'MCPAgentSessions in the cluster: init, apply, list, get, revoke, unrevoke, delete'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand access; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and not __fish_seen_subcommand_from proxy stdio help" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and not __fish_seen_subcommand_from proxy stdio help" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and not __fish_seen_subcommand_from proxy stdio help" -f -a "proxy" -d 'Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and not __fish_seen_subcommand_from proxy stdio help" -f -a "stdio" -d 'Serve MCP on stdin/stdout (for clients that launch servers as commands), forwarding each message to --runtime-url with the identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and not __fish_seen_subcommand_from proxy stdio help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l listen -d 'Address to listen on (a loopback address answers only loopback host names)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l max-inbound-bytes -d 'Largest request body accepted from a local client, in bytes' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l allowed-origins -d 'Browser origins accepted besides the adapter\'s own, comma-separated (`*`: any). Requests carrying another `Origin` get 403' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l runtime-url -d 'The server\'s MCP endpoint behind its gateway, e.g. https://mcp.example.com/notes/mcp' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l human-id -d 'The human the agent acts for (sent in --human-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l agent-id -d 'The agent (sent in --agent-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l team-id -d 'The team (sent in --team-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l session-id -d 'The agent session, an MCPAgentSession\'s name (sent in --session-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l auth -d 'How the runtime authenticates the adapter: `header` (identity headers, optionally with --token) or `mtls` (also requires a client certificate: --tls-client-cert and --tls-client-key)' -r -f -a "header\t''
mtls\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l token -d 'A bearer token sent on every request in --auth-header (as `Bearer <token>` in Authorization). Never logged; prefer the environment variable to the flag, which other users of the machine can see in the process list' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l auth-header -d 'The header carrying --token' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l host-header -d '`Host` to send instead of the runtime URL\'s host (an ingress that routes by host name reached through another address)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l protocol-version -d '`MCP-Protocol-Version` to send on requests that carry none (never on `initialize`, which negotiates it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l request-timeout -d 'How long to wait for the runtime\'s response headers, e.g. 30s or 5m (0: no limit). A stream that has started is never cut' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l tls-ca-bundle -d 'PEM CA certificates to trust for an https runtime instead of the system\'s trust store' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l tls-client-cert -d 'PEM client certificate (chain) to present to an https runtime' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l tls-client-key -d 'PEM private key of --tls-client-cert' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l human-id-header -d 'The gateway\'s human identity header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l agent-id-header -d 'The gateway\'s agent identity header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l team-id-header -d 'The gateway\'s team identity header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -l session-id-header -d 'The gateway\'s agent session header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from proxy" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l runtime-url -d 'The server\'s MCP endpoint behind its gateway, e.g. https://mcp.example.com/notes/mcp' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l human-id -d 'The human the agent acts for (sent in --human-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l agent-id -d 'The agent (sent in --agent-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l team-id -d 'The team (sent in --team-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l session-id -d 'The agent session, an MCPAgentSession\'s name (sent in --session-id-header)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l auth -d 'How the runtime authenticates the adapter: `header` (identity headers, optionally with --token) or `mtls` (also requires a client certificate: --tls-client-cert and --tls-client-key)' -r -f -a "header\t''
mtls\t''"
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l token -d 'A bearer token sent on every request in --auth-header (as `Bearer <token>` in Authorization). Never logged; prefer the environment variable to the flag, which other users of the machine can see in the process list' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l auth-header -d 'The header carrying --token' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l host-header -d '`Host` to send instead of the runtime URL\'s host (an ingress that routes by host name reached through another address)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l protocol-version -d '`MCP-Protocol-Version` to send on requests that carry none (never on `initialize`, which negotiates it)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l request-timeout -d 'How long to wait for the runtime\'s response headers, e.g. 30s or 5m (0: no limit). A stream that has started is never cut' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l tls-ca-bundle -d 'PEM CA certificates to trust for an https runtime instead of the system\'s trust store' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l tls-client-cert -d 'PEM client certificate (chain) to present to an https runtime' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l tls-client-key -d 'PEM private key of --tls-client-cert' -r -F
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l human-id-header -d 'The gateway\'s human identity header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l agent-id-header -d 'The gateway\'s agent identity header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l team-id-header -d 'The gateway\'s team identity header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -l session-id-header -d 'The gateway\'s agent session header name' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from stdio" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from help" -f -a "proxy" -d 'Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from help" -f -a "stdio" -d 'Serve MCP on stdin/stdout (for clients that launch servers as commands), forwarding each message to --runtime-url with the identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand adapter; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand example-server" -l http -d 'Serve streamable HTTP at `/mcp` on this address, e.g. 127.0.0.1:8088 (port 0: any free port). Without it the server speaks MCP on stdin/stdout' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand example-server" -l port -d 'Serve HTTP on this port when `--http` is not given (ignored with `--stdio`)' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand example-server" -l address -d 'Address for `--port`/`PORT`' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand example-server" -l stdio -d 'Speak MCP on stdin/stdout even when `PORT` is set'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand example-server" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand example-server" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand guard-child" -l parent -d 'The pid of the parent to outlive no longer than' -r
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand guard-child" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand guard-child" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand probe" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand probe" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand completion" -s h -l help -d 'Print help'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand completion" -s V -l version -d 'Print version'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "up" -d 'Run the whole platform on this machine from a directory of manifests (no cluster needed)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "status" -d 'Show the servers of a running `mcp-runtime up`: phase, URL, tools and problems'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "setup" -d 'Install mcp-runtime into a cluster (CRDs, namespaces, RBAC, operator, Sentinel), or remove it with --uninstall'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "operator" -d 'Run the Kubernetes operator (controllers for the three CRDs)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "gateway" -d 'Run the MCP gateway (the policy-enforcing reverse proxy)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "sentinel" -d 'Run Sentinel (audit ingest, storage, query API and UI)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "bridge" -d 'Serve a stdio MCP server over streamable HTTP: `mcp-runtime bridge -- CMD [ARGS…]`'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "install" -d 'Copy this executable elsewhere (the stdio pod\'s init container runs it)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "crd" -d 'Print the CustomResourceDefinitions as YAML (for `kubectl apply -f -`)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "validate" -d 'Validate manifests as the cluster would (schema, defaults and CEL rules) without applying'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "import" -d 'Convert kubernetes-sigs mcp-lifecycle-operator (mcp.x-k8s.io) MCPServers to this API'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "policy" -d 'Work with rendered policy documents'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "server" -d 'Work with MCPServers: metadata, manifests, client configuration and the cluster verbs'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "catalog" -d 'Browse the tools the MCPServers declare, and their drift from what the servers list live'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "access" -d 'Inspect access: explain decisions for a caller and a tool, simulate a change over the recorded traffic, manage grants and sessions'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "adapter" -d 'Run the client-side adapter (a local proxy or a stdio server) that forwards to a gateway-guarded server with the identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "example-server" -d 'Run the built-in example MCP server (stdio, or streamable HTTP with --http ADDR)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "guard-child" -d 'Run a command that dies with its parent (used by `up` for every server it starts)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "probe" -d 'Exit 0 when something accepts TCP connections at ADDRESS (within 1 s), 1 otherwise: the probe of a stdio server whose bridge listens on the pod\'s loopback address only'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and not __fish_seen_subcommand_from up status setup operator gateway sentinel bridge install crd validate import policy server catalog access adapter example-server guard-child probe completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from sentinel" -f -a "serve" -d 'Run the Sentinel server (the default when no subcommand is given)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from sentinel" -f -a "status" -d 'Show a running Sentinel\'s health and event totals'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from sentinel" -f -a "events" -d 'List events from a running Sentinel, newest first, with filters'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from sentinel" -f -a "verify" -d 'Re-verify stored audit events against their hash chains and the signed checkpoints; report every edited, removed or reordered event and exit non-zero when there is one'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "render" -d 'Print the policy document (policy.json) the gateway of a server would load'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "init" -d 'Write a server\'s metadata file (.mcp/NAME.yaml, the Go mcp-runtime\'s format): route, image, tools, gateway on, an allow-list policy and required sessions'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "generate" -d 'Turn the metadata files (.mcp/*.yaml) into MCPServer manifests, validated; nothing is written unless every server is valid'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "render" -d 'Print the objects the operator would apply for an MCPServer (policy ConfigMap, Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE, MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "apply" -d 'Validate manifests (as `mcp-runtime validate`) and, only if all are valid, apply them to the cluster by server-side apply (field manager `mcp-runtime`)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "list" -d 'List the MCPServers of a namespace (or every namespace with -A), with the CRD\'s columns'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "get" -d 'Print one MCPServer'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "status" -d 'Show an MCPServer\'s conditions and why it is not Ready'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "delete" -d 'Delete an MCPServer (the operator\'s garbage collection removes its children)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "connect-config" -d 'Print the configuration an MCP client (Claude Desktop, Cursor, VS Code) needs to reach a server: its URL and identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "pin" -d 'Write the digests of the server\'s live tool definitions into its manifest (spec.tools[].digest): from the cluster\'s status.toolDigests, or from a handshake with --url. The file is rewritten by the YAML serializer (comments are not kept)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "policy" -d 'Inspect the live policy of a server\'s gateway'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from catalog" -f -a "tools" -d 'List the tools the MCPServers declare (spec.tools), one row per server and tool: side effect, required trust, risk, team and description. With --drift, compare the declared names with the tools each server lists live (status.tools, from the operator\'s handshake)'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from catalog" -f -a "tool" -d 'Show one tool in detail: every server that declares it, and every server that lists it live without declaring it'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from access" -f -a "explain" -d 'Explain whether a caller may call a tool, and why: the grants considered, the session and the trust numbers. Exits 0 when allowed and 3 when denied'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from access" -f -a "simulate" -d 'Replay the recorded tool-call decisions (Sentinel, or `up`\'s embedded store) against the policies a proposed set of manifests would render, and report every decision that would change. Exits 3 when --fail-on-new-deny or --fail-on-new-allow matches'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from access" -f -a "grant" -d 'MCPAccessGrants in the cluster: init, apply, list, get, enable, disable, delete'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from access" -f -a "session" -d 'MCPAgentSessions in the cluster: init, apply, list, get, revoke, unrevoke, delete'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from adapter" -f -a "proxy" -d 'Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity headers'
complete -c mcp-runtime -n "__fish_mcp_runtime_using_subcommand help; and __fish_seen_subcommand_from adapter" -f -a "stdio" -d 'Serve MCP on stdin/stdout (for clients that launch servers as commands), forwarding each message to --runtime-url with the identity headers'
