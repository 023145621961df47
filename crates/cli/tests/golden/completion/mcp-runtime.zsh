#compdef mcp-runtime

autoload -U is-at-least

_mcp-runtime() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime_commands" \
"*::: :->mcp-runtime" \
&& ret=0
    case $state in
    (mcp-runtime)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-command-$line[1]:"
        case $line[1] in
            (up)
_arguments "${_arguments_options[@]}" : \
'-f+[Directory of manifests (\`*.yaml\`, \`*.yml\`, \`*.json\`, not recursive)]:DIR:_files' \
'--filename=[Directory of manifests (\`*.yaml\`, \`*.yml\`, \`*.json\`, not recursive)]:DIR:_files' \
'--port=[Port of the gateway, the status endpoint and the Sentinel UI]:PORT:_default' \
'--listen=[Address to listen on. Keep loopback unless callers elsewhere are trusted\: the default header identity believes the X-MCP-* headers it receives]:LISTEN:_default' \
'--state-dir=[Where local state lives (the embedded Sentinel'\''s database and the audit spool)]:DIR:_files' \
'--cluster=[Cluster name written into policies and audit events]:CLUSTER:_default' \
'--default-human-id=[Human ID for requests that carry no identity header at all (clients that cannot set headers, such as the MCP Inspector CLI). Default\: \$USER when listening on loopback, none otherwise. An empty value turns it off]:ID:_default' \
'--tls-cert-file=[Also serve every route over TLS on --tls-port with this certificate chain (PEM), for servers with \`auth.mode\: mtls\` (which the plain port refuses). Reloaded when it changes]:FILE:_files' \
'--tls-key-file=[The private key of --tls-cert-file (PEM)]:FILE:_files' \
'--tls-client-ca-file=[CA certificates (PEM) that client certificates are verified against on the TLS port]:FILE:_files' \
'--tls-port=[The TLS port (with --tls-cert-file); \`0\` picks a free one (printed on start)]:TLS_PORT:_default' \
'--upstream-token-dir=[Where the sessions'\'' upstream tokens (an MCPAgentSession'\''s upstreamTokenSecretRef) are read, as <DIR>/<namespace>/<secret>/<key>; when that file does not exist, the variable MCP_UPSTREAM_TOKEN_<SECRET>_<KEY> (upper case, - and . as _). Default\: <state-dir>/upstream-tokens]:DIR:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--url=[Base URL of the running \`mcp-runtime up\` (default\: http\://127.0.0.1\:PORT)]:URL:_default' \
'--port=[Port of the running \`mcp-runtime up\` on this machine, as given to \`up --port\` (the same variable, so one export serves both); \`--url\` wins when both are set]:PORT:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'(--local --url)--cluster[Show the cluster (the current kubectl context, or --kubeconfig / --context)]' \
'--local[Show the local \`mcp-runtime up\`]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(setup)
_arguments "${_arguments_options[@]}" : \
'--image=[The mcp-runtime image the operator, the gateways and Sentinel run]:IMAGE:_default' \
'(--without-sentinel)--sentinel-store=[Store Sentinel'\''s events in this PostgreSQL database (postgres\://USER\:PASSWORD@HOST/DB; kept in a Secret). Default\: SQLite on a PersistentVolumeClaim]:URL:_default' \
'--sentinel-storage=[Size of Sentinel'\''s SQLite volume]:SIZE:_default' \
'--audit-signing-key=[Sign the gateways'\'' audit chains with this Ed25519 key (PKCS#8 PEM, as \`openssl genpkey -algorithm ed25519\` writes it). It goes into the Secret mcp-audit-signing of the servers namespace, which the operator mounts into each gateway; its public half goes to Sentinel, which then checks checkpoints on receipt. Give it on every setup run\: a run without it turns signing off. Keep the public key yourself for \`sentinel verify --public-key\`]:FILE:_files' \
'--namespace=[Namespace of the operator and Sentinel]:NAMESPACE:_default' \
'--servers-namespace=[Namespace created for MCP servers]:NAMESPACE:_default' \
'--wait=[Wait until the operator (and Sentinel) run, up to TIMEOUT (e.g. 2m); if they do not, say exactly why and exit 1]:TIMEOUT:_default' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--dry-run[Print the manifests instead of installing them (no cluster needed)]' \
'--without-sentinel[Do not install Sentinel (gateways then audit to nothing unless a server sets spec.analytics.ingestURL)]' \
'--uninstall[Remove what setup installed instead (the CRDs, and with them every server, only with --crds)]' \
'--crds[With --uninstall\: also delete the CRDs, which deletes every MCPServer, MCPAccessGrant and MCPAgentSession in the cluster]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(operator)
_arguments "${_arguments_options[@]}" : \
'--leader-elect=[Take a Lease before reconciling, so only one replica acts (\`--leader-elect=false\` to disable, e.g. for a single replica run locally)]:LEADER_ELECT:(true false)' \
'--health-addr=[Address of \`/healthz\` and \`/readyz\`]:HEALTH_ADDR:_default' \
'--metrics-addr=[Address of Prometheus \`/metrics\` (may equal --health-addr)]:METRICS_ADDR:_default' \
'--namespace=[Watch only this namespace (default\: all namespaces)]:NAMESPACE:_default' \
'--lease-namespace=[Namespace of the leader-election Lease (the operator'\''s own)]:LEASE_NAMESPACE:_default' \
'--lease-name=[Name of the leader-election Lease]:LEASE_NAME:_default' \
'--lease-duration-seconds=[Lease duration; the holder renews every third of it]:LEASE_DURATION_SECONDS:_default' \
'--identity=[This replica'\''s identity in the Lease]:IDENTITY:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(gateway)
_arguments "${_arguments_options[@]}" : \
'--port=[Port to listen on]:PORT:_default' \
'--address=[Address to listen on]:ADDRESS:_default' \
'--upstream-url=[The MCP server to forward to, e.g. http\://127.0.0.1\:8088]:UPSTREAM_URL:_default' \
'--policy-file=[The policy document, reloaded when it changes]:POLICY_FILE:_files' \
'--policy-configmap=[Also watch the policy ConfigMap \`<namespace>/<name>\` (key \`policy.json\`) through the Kubernetes API, so a revocation arrives within about a second instead of after the kubelet'\''s refresh of the mounted file. Uses the in-cluster ServiceAccount token, or KUBECONFIG. The file stays the fallback\: the newest valid document of either wins, and a watch that fails keeps the last good policy (reported on /config/status and in metrics)]:NAMESPACE/NAME:_default' \
'--strip-prefix=[Path prefix removed before forwarding]:STRIP_PREFIX:_default' \
'--upstream-timeout=[How long the upstream may take to start its response before the caller gets a 504 (\`upstream_timeout\`, audited); a response that has started streaming is never cut]:UPSTREAM_TIMEOUT:_default' \
'--auth-mode=[Caller identification. The policy document'\''s \`auth.mode\` decides; this may only repeat it (a different value is refused) or fill it when the document has none (default then\: \`header\`). \`none\`, \`header\`, \`oauth\` (bearer JWTs from the policy'\''s \`auth.issuer_url\`) or \`mtls\` (a client certificate whose SPIFFE ID names a live session; needs TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE, without which every MCP request is refused with 503 \`auth_mode_unavailable\`)]:AUTH_MODE:_default' \
'--policy-mode=[Policy mode when the document has none\: \`allow-list\` or \`observe\`]:POLICY_MODE:_default' \
'--policy-default-decision=[Default decision when the document has none\: \`deny\` or \`allow\`]:POLICY_DEFAULT_DECISION:_default' \
'--policy-version=[Policy version reported when the document has none]:POLICY_VERSION:_default' \
'--human-id-header=[Human ID header when the document names none (default X-MCP-Human-ID)]:HUMAN_ID_HEADER:_default' \
'--agent-id-header=[Agent ID header when the document names none (default X-MCP-Agent-ID)]:AGENT_ID_HEADER:_default' \
'--team-id-header=[Team ID header when the document names none (default X-MCP-Team-ID)]:TEAM_ID_HEADER:_default' \
'--session-id-header=[Session ID header when the document names none (default X-MCP-Agent-Session)]:SESSION_ID_HEADER:_default' \
'--worker-threads=[Threads that serve requests. Default\: one per CPU of the process'\''s CPU limit (its cgroup quota, as a Kubernetes CPU limit sets it, or a narrower CPU set), at most 4; without a limit, 1. With 1 the whole gateway runs on one thread, so a request never crosses threads between the caller'\''s connection and the upstream'\''s]:WORKER_THREADS:_default' \
'--deny-encoding=[How denials are written\: \`jsonrpc\` (JSON-RPC errors, the default) or \`http\` (the Go mcp-runtime'\''s 401/403/503 JSON bodies)]:DENY_ENCODING:_default' \
'--analytics-ingest-url=[Sentinel ingest URL for audit events (batched, spooled to disk while unreachable); \`http\://\` or \`https\://\`]:ANALYTICS_INGEST_URL:_default' \
'--analytics-ca-bundle=[For an https ingest\: CA certificates (PEM) to trust instead of the system'\''s trust store]:FILE:_files' \
'--analytics-client-cert=[For an https ingest that wants mTLS\: the client certificate chain (PEM)]:FILE:_files' \
'--analytics-client-key=[The client certificate'\''s private key (PEM)]:FILE:_files' \
'--analytics-api-key=[API key sent as \`x-api-key\` to the ingest]:ANALYTICS_API_KEY:_default' \
'--analytics-source=[Audit event source. Default \`<server>-gateway\`]:ANALYTICS_SOURCE:_default' \
'--analytics-event-type=[Audit event type]:ANALYTICS_EVENT_TYPE:_default' \
'--audit-spool-dir=[Directory for audit events the ingest has not acknowledged yet]:AUDIT_SPOOL_DIR:_files' \
'--audit-spool-max-bytes=[Bound on the spool'\''s size on disk, in bytes. While the ingest is unreachable, events that no longer fit are dropped and counted in \`mcp_gateway_audit_dropped_events_total\`]:AUDIT_SPOOL_MAX_BYTES:_default' \
'--audit-signing-key-file=[Ed25519 private key (PKCS#8 PEM, e.g. from \`openssl genpkey -algorithm ed25519\`) that signs checkpoints of this gateway'\''s audit chain. Without it, events are still chained but the chain head is never signed]:FILE:_files' \
'--audit-checkpoint-interval=[How often the audit chain head is signed when it moved (also at shutdown)]:AUDIT_CHECKPOINT_INTERVAL:_default' \
'--server-name=[Server name for audit events]:SERVER_NAME:_default' \
'--server-namespace=[Server namespace for audit events]:SERVER_NAMESPACE:_default' \
'--team-id=[Owning team for audit events]:TEAM_ID:_default' \
'--cluster-name=[Cluster name for audit events]:CLUSTER_NAME:_default' \
'--metrics-port=[Separate port serving only \`/metrics\` (0 disables it; \`/metrics\` is also on the main port)]:METRICS_PORT:_default' \
'*--allowed-origins=[Browser origins accepted besides the gateway'\''s own, comma-separated (\`*\`\: any). Requests carrying another \`Origin\` get 403 (DNS-rebinding protection)]:ALLOWED_ORIGINS:_default' \
'--max-body-bytes=[Largest accepted request body, in bytes]:MAX_BODY_BYTES:_default' \
'--max-concurrent-bodies=[Request bodies read at once; one more is answered 503 with \`Retry-After\: 1\`. Bounds the memory that bodies in flight take (this many times MAX_BODY_BYTES) against slow or many callers]:MAX_CONCURRENT_BODIES:_default' \
'--external-base-url=[The gateway'\''s public base URL, e.g. https\://mcp.example.com (oauth mode)\: the resource URL is this plus the request path, published in the protected-resource metadata and expected as the token audience when the policy'\''s \`auth.audience\` is empty. Unset\: taken from each request'\''s Host, which is trusted as an audience only on a loopback listener]:EXTERNAL_BASE_URL:_default' \
'--tls-cert-file=[Serve HTTPS with this certificate chain (PEM, leaf first)\: the gateway terminates TLS itself, as \`auth.mode\: mtls\` needs. Reloaded when it changes]:FILE:_files' \
'--tls-key-file=[The private key of TLS_CERT_FILE (PEM\: PKCS#8, PKCS#1 or SEC1). Reloaded when it changes]:FILE:_files' \
'--tls-client-ca-file=[CA certificates (PEM) that client certificates are verified against; a certificate from another CA ends the handshake. Reloaded when it changes]:FILE:_files' \
'--tls-reload-interval=[How often the TLS files are checked for changes; new handshakes use the new files, established connections keep theirs]:TLS_RELOAD_INTERVAL:_default' \
'--trusted-proxy-spiffe-id=[The ingress-terminated mtls variant\: the URI SAN (a SPIFFE ID) of the proxy that terminates the clients'\'' TLS. Only a peer whose verified certificate carries it is believed, and the caller'\''s identity is then the SPIFFE ID it forwards in X-MCP-Verified-SPIFFE-ID. Unset\: the caller'\''s own certificate is the identity]:SPIFFE_ID:_default' \
'--upstream-token-dir=[Where the sessions'\'' own upstream tokens are read, as <DIR>/<namespace>/<secret>/<key> (an MCPAgentSession'\''s upstreamTokenSecretRef; the operator projects those Secret keys here). Read again for every request that carries one, so a rotation needs no restart]:DIR:_files' \
'--oauth-leeway-seconds=[Clock skew tolerated on a token'\''s \`exp\` and \`nbf\`, in seconds (oauth mode)]:OAUTH_LEEWAY_SECONDS:_default' \
'--oauth-verified-token-cache=[How many verified bearer tokens are remembered (oauth mode)\: a token'\''s signature is checked on its first use, and its \`exp\`, \`nbf\` and audience on every use; a key refresh forgets them all. 0 checks the signature on every request]:TOKENS:_default' \
'--audit-stdout[Also write every audit event to stdout as a JSON line]' \
'--oauth-allow-http-issuer[Accept a plain-http issuer (and key set) on a non-loopback host (oauth mode). Without it only https is used, except for loopback hosts]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(sentinel)
_arguments "${_arguments_options[@]}" : \
'--address=[Address to listen on]:ADDRESS:_default' \
'--port=[Port to listen on (0\: any free port)]:PORT:_default' \
'--store=[Where events are stored\: sqlite\://PATH (embedded, the default) or postgres\://USER@HOST/DB]:STORE:_default' \
'*--api-keys=[API keys accepted by POST /events in \`x-api-key\`, comma-separated (also read from INGEST_API_KEYS or API_KEYS). Without any key, ingest is open to anyone who can reach it]:API_KEYS:_default' \
'*--read-api-keys=[API keys required by the query API (/api/v1/*) in \`x-api-key\`, comma-separated. Without any, the query API and the UI are open]:READ_API_KEYS:_default' \
'--retention=[Delete events older than this (e.g. 7d, 12h, 30d); \`off\` keeps everything]:RETENTION:_default' \
'--max-body-bytes=[Largest accepted POST /events body, in bytes]:MAX_BODY_BYTES:_default' \
'*--audit-public-key=[Public keys (PEM files, comma-separated) trusted to sign the gateways'\'' audit-chain checkpoints\: each checkpoint is marked valid or invalid on receipt. Without any, they are stored unchecked]:FILE:_files' \
'--insecure-open[Serve ingest or the query API without keys on an address that is not loopback. Without this, Sentinel refuses to start that way\: anyone who can reach it could write or read the audit trail]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__sentinel_commands" \
"*::: :->sentinel" \
&& ret=0

    case $state in
    (sentinel)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-sentinel-command-$line[1]:"
        case $line[1] in
            (serve)
_arguments "${_arguments_options[@]}" : \
'--address=[Address to listen on]:ADDRESS:_default' \
'--port=[Port to listen on (0\: any free port)]:PORT:_default' \
'--store=[Where events are stored\: sqlite\://PATH (embedded, the default) or postgres\://USER@HOST/DB]:STORE:_default' \
'*--api-keys=[API keys accepted by POST /events in \`x-api-key\`, comma-separated (also read from INGEST_API_KEYS or API_KEYS). Without any key, ingest is open to anyone who can reach it]:API_KEYS:_default' \
'*--read-api-keys=[API keys required by the query API (/api/v1/*) in \`x-api-key\`, comma-separated. Without any, the query API and the UI are open]:READ_API_KEYS:_default' \
'--retention=[Delete events older than this (e.g. 7d, 12h, 30d); \`off\` keeps everything]:RETENTION:_default' \
'--max-body-bytes=[Largest accepted POST /events body, in bytes]:MAX_BODY_BYTES:_default' \
'*--audit-public-key=[Public keys (PEM files, comma-separated) trusted to sign the gateways'\'' audit-chain checkpoints\: each checkpoint is marked valid or invalid on receipt. Without any, they are stored unchecked]:FILE:_files' \
'--insecure-open[Serve ingest or the query API without keys on an address that is not loopback. Without this, Sentinel refuses to start that way\: anyone who can reach it could write or read the audit trail]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--url=[Base URL of the Sentinel]:URL:_default' \
'--sentinel-namespace=[Namespace of the in-cluster Sentinel (with --in-cluster)]:NAMESPACE:_default' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--api-key=[API key for the query API, when it requires one]:API_KEY:_default' \
'-o+[Output format]:OUTPUT:((table\:"Human-readable text"
json\:"The API'\''s JSON"))' \
'--output=[Output format]:OUTPUT:((table\:"Human-readable text"
json\:"The API'\''s JSON"))' \
'(--url)--in-cluster[Ask the Sentinel that \`mcp-runtime setup\` installed in the cluster instead of --url\: through the API server'\''s service proxy, with the read key from its Secret]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(events)
_arguments "${_arguments_options[@]}" : \
'--url=[Base URL of the Sentinel]:URL:_default' \
'--sentinel-namespace=[Namespace of the in-cluster Sentinel (with --in-cluster)]:NAMESPACE:_default' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--api-key=[API key for the query API, when it requires one]:API_KEY:_default' \
'-o+[Output format]:OUTPUT:((table\:"Human-readable text"
json\:"The API'\''s JSON"))' \
'--output=[Output format]:OUTPUT:((table\:"Human-readable text"
json\:"The API'\''s JSON"))' \
'--server=[Only this MCPServer]:SERVER:_default' \
'--agent=[Only this agent identity]:AGENT:_default' \
'--human=[Only this human identity]:HUMAN:_default' \
'--session=[Only this session id]:SESSION:_default' \
'--tool=[Only this tool]:TOOL:_default' \
'--decision=[Only allowed or only denied calls]:DECISION:(allow deny)' \
'--reason=[Only this decision reason (e.g. trust_too_low)]:REASON:_default' \
'--namespace=[Only this namespace]:NAMESPACE:_default' \
'--cluster=[Only this cluster]:CLUSTER:_default' \
'--source=[Only this event source (e.g. files-gateway)]:SOURCE:_default' \
'--event-type=[Only this event type (e.g. mcp.request)]:EVENT_TYPE:_default' \
'--trace-id=[Only this trace id]:TRACE_ID:_default' \
'--since=[Events since\: RFC 3339, Unix seconds, or a duration ago (15m, 24h, 7d)]:SINCE:_default' \
'--until=[Events before\: RFC 3339, Unix seconds, or a duration ago]:UNTIL:_default' \
'--limit=[Page size (1–1000)]:LIMIT:_default' \
'--cursor=[Continue from a \`next_cursor\` printed by an earlier call]:CURSOR:_default' \
'(--url)--in-cluster[Ask the Sentinel that \`mcp-runtime setup\` installed in the cluster instead of --url\: through the API server'\''s service proxy, with the read key from its Secret]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
'--url=[Base URL of the Sentinel]:URL:_default' \
'--sentinel-namespace=[Namespace of the in-cluster Sentinel (with --in-cluster)]:NAMESPACE:_default' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--api-key=[API key for the query API, when it requires one]:API_KEY:_default' \
'-o+[Output format]:OUTPUT:((table\:"Human-readable text"
json\:"The API'\''s JSON"))' \
'--output=[Output format]:OUTPUT:((table\:"Human-readable text"
json\:"The API'\''s JSON"))' \
'(--in-cluster)--store=[Read the store directly instead of asking a running Sentinel\: sqlite\://PATH (for \`mcp-runtime up\`, \`sentinel.db\` in its state directory) or postgres\://…]:STORE_URL:_default' \
'--since=[Verify events since\: RFC 3339, Unix seconds, or a duration ago (15m, 24h, 7d)]:SINCE:_default' \
'--chain=[Only this chain (a gateway instance'\''s chain id)]:CHAIN_ID:_default' \
'*--public-key=[A public key trusted to sign checkpoints (PEM from \`openssl pkey -pubout\`, or base64 of the 32 raw bytes); repeatable. Take it from where the key was made, never from the store]:FILE:_files' \
'(--url)--in-cluster[Ask the Sentinel that \`mcp-runtime setup\` installed in the cluster instead of --url\: through the API server'\''s service proxy, with the read key from its Secret]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__sentinel__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-sentinel-help-command-$line[1]:"
        case $line[1] in
            (serve)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(events)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(bridge)
_arguments "${_arguments_options[@]}" : \
'--port=[Port to listen on, on all interfaces (the MCPServer'\''s \`port\`)]:PORT:_default' \
'--listen=[Address to listen on, e.g. 127.0.0.1\:8088 (port 0 picks a free one); overrides --port]:ADDR:_default' \
'--path=[The MCP endpoint path]:PATH:_default' \
'--stdin-close-grace=[Seconds a server process gets to exit after its stdin is closed, before SIGTERM]:SECONDS:_default' \
'--sigterm-grace=[Seconds a server process gets to exit after SIGTERM, before SIGKILL]:SECONDS:_default' \
'--max-sessions=[Most concurrent sessions (one server process each); more get 503]:MAX_SESSIONS:_default' \
'--session-idle-timeout=[Seconds after which a session without requests or open streams is ended (0\: never)]:SECONDS:_default' \
'--max-body-bytes=[Largest accepted request body, in bytes]:MAX_BODY_BYTES:_default' \
'*--allowed-origins=[Browser origins accepted besides loopback ones and the bridge'\''s own host, comma-separated (\`*\`\: any). Requests carrying another \`Origin\` get 403]:ALLOWED_ORIGINS:_default' \
'--exit-on-stdin-eof[Exit (stopping every server process) when the bridge'\''s own stdin reaches end of file, so a supervising parent that dies takes the bridge with it]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::command -- The stdio MCP server command and its arguments, after `--`:_default' \
&& ret=0
;;
(install)
_arguments "${_arguments_options[@]}" : \
'--to=[Destination\: an existing directory (the binary becomes DIR/mcp-runtime) or a file path]:PATH:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(crd)
_arguments "${_arguments_options[@]}" : \
'--output-dir=[Write one file per CRD (\`<group>_<plural>.yaml\`) into this directory instead of printing]:DIR:_files' \
'(--output-dir)--reference[Print the API reference (Markdown, as in docs/api.md) instead of the CRDs]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
'*-f+[Manifest files or directories (directories are read like \`kubectl apply -f DIR\`)]:PATH:_files' \
'*--filename=[Manifest files or directories (directories are read like \`kubectl apply -f DIR\`)]:PATH:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(import)
_arguments "${_arguments_options[@]}" : \
'*-f+[Files holding \`mcp.x-k8s.io\` MCPServer manifests (multi-document YAML or JSON)]:FILE:_files' \
'*--filename=[Files holding \`mcp.x-k8s.io\` MCPServer manifests (multi-document YAML or JSON)]:FILE:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(policy)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-policy-command-$line[1]:"
        case $line[1] in
            (render)
_arguments "${_arguments_options[@]}" : \
'-f+[Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests]:PATH:_files' \
'--filename=[Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests]:PATH:_files' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--server=[Name of the MCPServer]:NAME:_default' \
'-n+[Namespace of the MCPServer; needed only when several servers share the name]:NAMESPACE:_default' \
'--namespace=[Namespace of the MCPServer; needed only when several servers share the name]:NAMESPACE:_default' \
'--cluster=[Cluster name written into the policy (as the operator'\''s \`MCP_CLUSTER_NAME\`)]:NAME:_default' \
'(-f --filename)--live[Read the server, grants and sessions from the cluster (the current context, or --kubeconfig / --context) instead of files]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__policy__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-policy-help-command-$line[1]:"
        case $line[1] in
            (render)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(server)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__server_commands" \
"*::: :->server" \
&& ret=0

    case $state in
    (server)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-server-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--metadata-dir=[Directory of the metadata files]:DIR:_files' \
'-n+[Namespace written into the entry (default\: left out, so \`generate\` decides)]:NAMESPACE:_default' \
'--namespace=[Namespace written into the entry (default\: left out, so \`generate\` decides)]:NAMESPACE:_default' \
'--image=[Container image (default\: the server'\''s name)]:IMAGE:_default' \
'--tag=[Image tag]:TAG:_default' \
'--port=[Container port of the MCP server]:PORT:_default' \
'*--tool=[A tool the server offers (trust low, side effect read unless --tool-spec says otherwise)]:NAME:_default' \
'*--tool-spec=[A tool with its required trust and side effect, such as delete_note\:high\:destructive]:NAME:TRUST:SIDE_EFFECT:_default' \
'--tool-risk=[Risk level written on every tool (low, medium, high)]:RISK:_default' \
'--policy-mode=[Policy mode\: allow-list (enforce) or observe]:MODE:_default' \
'--default-decision=[Decision when no grant matches\: deny or allow]:DECISION:_default' \
'--session-required=[Require an MCPAgentSession on every tool call]:BOOL:(true false)' \
'--force[Overwrite an existing file]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The server'\''s name (also its file name\: .mcp/NAME.yaml):_default' \
&& ret=0
;;
(generate)
_arguments "${_arguments_options[@]}" : \
'--metadata-dir=[Directory of the metadata files (every *.yaml / *.yml in it)]:DIR:_files' \
'--metadata-file=[One metadata file instead of the directory]:FILE:_files' \
'--output=[Directory the manifests are written to (one NAME.yaml per server), or - for standard output]:DIR:_files' \
'-n+[Namespace of entries that name none]:NAMESPACE:_default' \
'--namespace=[Namespace of entries that name none]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(render)
_arguments "${_arguments_options[@]}" : \
'-f+[Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests]:PATH:_files' \
'--filename=[Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests]:PATH:_files' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--server=[Name of the MCPServer]:NAME:_default' \
'-n+[Namespace of the MCPServer; needed only when several servers share the name]:NAMESPACE:_default' \
'--namespace=[Namespace of the MCPServer; needed only when several servers share the name]:NAMESPACE:_default' \
'--cluster=[Cluster name written into the policy (as the operator'\''s \`MCP_CLUSTER_NAME\`)]:NAME:_default' \
'(-f --filename)--live[Read the server, grants and sessions from the cluster (the current context, or --kubeconfig / --context) instead of files]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'*-f+[Manifest files or directories]:PATH:_files' \
'*--filename=[Manifest files or directories]:PATH:_files' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-A[Every namespace]' \
'--all-namespaces[Every namespace]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(connect-config)
_arguments "${_arguments_options[@]}" : \
'--client=[The client to configure]:CLIENT:((claude\:"Claude Desktop (claude_desktop_config.json)\: runs \`mcp-runtime adapter stdio\`"
cursor\:"Cursor (~/.cursor/mcp.json)"
vscode\:"VS Code (.vscode/mcp.json)"
json\:"A neutral description\: name, URL, transport, headers"))' \
'-f+[Read the server from this manifest instead of the cluster]:PATH:_files' \
'--filename=[Read the server from this manifest instead of the cluster]:PATH:_files' \
'--url=[The URL clients reach the server at (default\: its status.url, or its ingress host and path)]:URL:_default' \
'--human-id=[Human identity to send (header mode; default\: a placeholder to replace)]:ID:_default' \
'--agent-id=[Agent identity to send (header mode; default\: a placeholder to replace)]:ID:_default' \
'--team-id=[Team to send (header mode)]:ID:_default' \
'--session-id=[MCPAgentSession to send (header mode; a placeholder when the server requires sessions)]:NAME:_default' \
'-o+[Output format]:OUTPUT:(json yaml)' \
'--output=[Output format]:OUTPUT:(json yaml)' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The MCPServer'\''s name:_default' \
&& ret=0
;;
(pin)
_arguments "${_arguments_options[@]}" : \
'-f+[The manifest file holding the MCPServer; rewritten in place]:FILE:_files' \
'--filename=[The manifest file holding the MCPServer; rewritten in place]:FILE:_files' \
'--url=[Handshake with the server at this MCP URL (its own endpoint, not a gateway, which filters tools/list) instead of reading \`status.toolDigests\` from the cluster]:URL:_default' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The MCPServer'\''s name (`metadata.name`):_default' \
&& ret=0
;;
(policy)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__server__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-server-policy-command-$line[1]:"
        case $line[1] in
            (inspect)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The MCPServer'\''s name:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__server__subcmd__policy__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-server-policy-help-command-$line[1]:"
        case $line[1] in
            (inspect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__server__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-server-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(generate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(render)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(connect-config)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(pin)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(policy)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__server__subcmd__help__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-server-help-policy-command-$line[1]:"
        case $line[1] in
            (inspect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(catalog)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__catalog_commands" \
"*::: :->catalog" \
&& ret=0

    case $state in
    (catalog)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-catalog-command-$line[1]:"
        case $line[1] in
            (tools)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--server=[Only the MCPServer of this name]:NAME:_default' \
'--team=[Only servers of this team (spec.teamID)]:ID:_default' \
'--side-effect=[Only tools with this side effect]:EFFECT:(read write destructive)' \
'--trust=[Only tools that require this trust (requiredTrust; unset is low)]:LEVEL:(low medium high)' \
'--risk=[Only tools that declare this risk (riskLevel)]:LEVEL:(low medium high)' \
'-q+[Only tools whose name, description or a label (key, value or key=value) contains TEXT, ignoring case]:TEXT:_default' \
'--query=[Only tools whose name, description or a label (key, value or key=value) contains TEXT, ignoring case]:TEXT:_default' \
'--drift=[Compare the declared tools with the live ones\: declared (declared and live), ungoverned (live, not declared\: the policy does not know it), missing (declared, not live), pinned (pinned with spec.tools\[\].digest and listed live with another definition digest\: tool drift; -o json shows both digests). Servers whose live inventory is unknown are named, never counted]:KIND:((declared\:"Declared, and listed live\: governed as declared"
ungoverned\:"Listed live but not declared\: a tool the policy does not know"
missing\:"Declared but not listed live"
pinned\:"Declared with a pin (\`spec.tools\[\].digest\`), and listed live with another definition digest (\`status.toolDigests\`)\: tool drift, quarantined unless \`onToolDrift\: warn\`"))' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-A[Every namespace]' \
'--all-namespaces[Every namespace]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(tool)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--server=[Only the MCPServer of this name]:NAME:_default' \
'--team=[Only servers of this team (spec.teamID)]:ID:_default' \
'--side-effect=[Only tools with this side effect]:EFFECT:(read write destructive)' \
'--trust=[Only tools that require this trust (requiredTrust; unset is low)]:LEVEL:(low medium high)' \
'--risk=[Only tools that declare this risk (riskLevel)]:LEVEL:(low medium high)' \
'-q+[Only tools whose name, description or a label (key, value or key=value) contains TEXT, ignoring case]:TEXT:_default' \
'--query=[Only tools whose name, description or a label (key, value or key=value) contains TEXT, ignoring case]:TEXT:_default' \
'--drift=[Compare the declared tools with the live ones\: declared (declared and live), ungoverned (live, not declared\: the policy does not know it), missing (declared, not live), pinned (pinned with spec.tools\[\].digest and listed live with another definition digest\: tool drift; -o json shows both digests). Servers whose live inventory is unknown are named, never counted]:KIND:((declared\:"Declared, and listed live\: governed as declared"
ungoverned\:"Listed live but not declared\: a tool the policy does not know"
missing\:"Declared but not listed live"
pinned\:"Declared with a pin (\`spec.tools\[\].digest\`), and listed live with another definition digest (\`status.toolDigests\`)\: tool drift, quarantined unless \`onToolDrift\: warn\`"))' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-A[Every namespace]' \
'--all-namespaces[Every namespace]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The tool'\''s name:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__catalog__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-catalog-help-command-$line[1]:"
        case $line[1] in
            (tools)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(tool)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(access)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__access_commands" \
"*::: :->access" \
&& ret=0

    case $state in
    (access)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-command-$line[1]:"
        case $line[1] in
            (explain)
_arguments "${_arguments_options[@]}" : \
'-f+[Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests]:PATH:_files' \
'--filename=[Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests]:PATH:_files' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'--server=[Name of the MCPServer]:NAME:_default' \
'-n+[Namespace of the MCPServer; needed only when several servers share the name]:NAMESPACE:_default' \
'--namespace=[Namespace of the MCPServer; needed only when several servers share the name]:NAMESPACE:_default' \
'--cluster=[Cluster name written into the policy (as the operator'\''s \`MCP_CLUSTER_NAME\`)]:NAME:_default' \
'--human=[The caller'\''s human identity]:ID:_default' \
'--agent=[The caller'\''s agent identity]:ID:_default' \
'--team=[The caller'\''s team identity]:ID:_default' \
'--session=[The agent session the caller presents]:NAME:_default' \
'--tool=[The tool to call]:TOOL:_default' \
'--at=[Evaluate at this time (RFC 3339) instead of now, e.g. to check an expiry]:TIME:_default' \
'-o+[Output format]:OUTPUT:(text json)' \
'--output=[Output format]:OUTPUT:(text json)' \
'(-f --filename)--live[Read the server, grants and sessions from the cluster (the current context, or --kubeconfig / --context) instead of files]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(simulate)
_arguments "${_arguments_options[@]}" : \
'-f+[Directory (or file) of the proposed MCPServer, MCPAccessGrant and MCPAgentSession manifests\: every server'\''s policy is rendered from them]:PATH:_files' \
'--filename=[Directory (or file) of the proposed MCPServer, MCPAccessGrant and MCPAgentSession manifests\: every server'\''s policy is rendered from them]:PATH:_files' \
'--since=[How far back to replay\: a duration such as 90m, 24h, 7d or 2w]:DURATION:_default' \
'(--store --state-dir)--sentinel-url=[Read the recorded decisions from this Sentinel (its query API)]:URL:_default' \
'--api-key=[API key for the Sentinel'\''s query API, when it requires one]:API_KEY:_default' \
'(--state-dir)--store=[Read the recorded decisions from this store directly\: sqlite\://PATH or postgres\://…]:URL:_default' \
'--state-dir=[The state directory of \`mcp-runtime up\`, whose embedded store is read when neither --sentinel-url nor --store is given]:DIR:_files' \
'--cluster=[Cluster name written into the rendered policies (as the operator'\''s \`MCP_CLUSTER_NAME\`)]:NAME:_default' \
'-o+[Output format]:OUTPUT:(text json)' \
'--output=[Output format]:OUTPUT:(text json)' \
'--fail-on-new-deny[Exit with status 3 when a recorded allow would be denied]' \
'--fail-on-new-allow[Exit with status 3 when a recorded deny would be allowed]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(grant)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__access__subcmd__grant_commands" \
"*::: :->grant" \
&& ret=0

    case $state in
    (grant)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-grant-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--server=[The MCPServer it applies to]:NAME:_default' \
'--server-namespace=[The server'\''s namespace, when not the object'\''s own]:NAMESPACE:_default' \
'-n+[Namespace of the object]:NAMESPACE:_default' \
'--namespace=[Namespace of the object]:NAMESPACE:_default' \
'--human-id=[The human it applies to]:ID:_default' \
'--agent-id=[The agent it applies to]:ID:_default' \
'--team-id=[The team it applies to]:ID:_default' \
'--trust=[Trust level\: low, medium or high (a grant'\''s maximum, a session'\''s consented trust)]:LEVEL:_default' \
'--policy-version=[Policy version it is tied to]:VERSION:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'*--side-effect=[A side effect the grant allows (read, write, destructive, …); repeatable]:EFFECT:_default' \
'*--tool=[A tool the grant allows at its trust; repeatable]:NAME:_default' \
'*--tool-rule=[A tool rule NAME=allow|deny\[\:TRUST\]; repeatable]:RULE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'*-f+[Manifest files or directories]:PATH:_files' \
'*--filename=[Manifest files or directories]:PATH:_files' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-A[Every namespace]' \
'--all-namespaces[Every namespace]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(enable)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-grant-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(enable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(session)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__access__subcmd__session_commands" \
"*::: :->session" \
&& ret=0

    case $state in
    (session)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-session-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--server=[The MCPServer it applies to]:NAME:_default' \
'--server-namespace=[The server'\''s namespace, when not the object'\''s own]:NAMESPACE:_default' \
'-n+[Namespace of the object]:NAMESPACE:_default' \
'--namespace=[Namespace of the object]:NAMESPACE:_default' \
'--human-id=[The human it applies to]:ID:_default' \
'--agent-id=[The agent it applies to]:ID:_default' \
'--team-id=[The team it applies to]:ID:_default' \
'--trust=[Trust level\: low, medium or high (a grant'\''s maximum, a session'\''s consented trust)]:LEVEL:_default' \
'--policy-version=[Policy version it is tied to]:VERSION:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'(--expires-at)--expires-in=[When the session ends, as a duration from now (e.g. 8h, 7d)]:DURATION:_default' \
'--expires-at=[When the session ends (RFC 3339)]:TIME:_default' \
'--upstream-token-secret=[Secret holding the upstream token the gateway sends for this session]:SECRET:_default' \
'--upstream-token-key=[Key of that Secret]:KEY:_default' \
'--revoked[Create it revoked]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'*-f+[Manifest files or directories]:PATH:_files' \
'*--filename=[Manifest files or directories]:PATH:_files' \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-A[Every namespace]' \
'--all-namespaces[Every namespace]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-o+[Output format]:OUTPUT:(table json yaml)' \
'--output=[Output format]:OUTPUT:(table json yaml)' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(unrevoke)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig (default\: KUBECONFIG, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use (default\: its current context)]:NAME:_default' \
'-n+[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'--namespace=[Namespace (objects that name their own keep it)]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- The object'\''s name:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__access__subcmd__session__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-session-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unrevoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__access__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-help-command-$line[1]:"
        case $line[1] in
            (explain)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(simulate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(grant)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant_commands" \
"*::: :->grant" \
&& ret=0

    case $state in
    (grant)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-help-grant-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(enable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(session)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__access__subcmd__help__subcmd__session_commands" \
"*::: :->session" \
&& ret=0

    case $state in
    (session)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-access-help-session-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unrevoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(adapter)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_mcp-runtime__subcmd__adapter_commands" \
"*::: :->adapter" \
&& ret=0

    case $state in
    (adapter)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-adapter-command-$line[1]:"
        case $line[1] in
            (proxy)
_arguments "${_arguments_options[@]}" : \
'--listen=[Address to listen on (a loopback address answers only loopback host names)]:ADDR:_default' \
'--max-inbound-bytes=[Largest request body accepted from a local client, in bytes]:BYTES:_default' \
'*--allowed-origins=[Browser origins accepted besides the adapter'\''s own, comma-separated (\`*\`\: any). Requests carrying another \`Origin\` get 403]:ORIGINS:_default' \
'--runtime-url=[The server'\''s MCP endpoint behind its gateway, e.g. https\://mcp.example.com/notes/mcp]:URL:_default' \
'--human-id=[The human the agent acts for (sent in --human-id-header)]:ID:_default' \
'--agent-id=[The agent (sent in --agent-id-header)]:ID:_default' \
'--team-id=[The team (sent in --team-id-header)]:ID:_default' \
'--session-id=[The agent session, an MCPAgentSession'\''s name (sent in --session-id-header)]:NAME:_default' \
'--auth=[How the runtime authenticates the adapter\: \`header\` (identity headers, optionally with --token) or \`mtls\` (also requires a client certificate\: --tls-client-cert and --tls-client-key)]:AUTH:(header mtls)' \
'--token=[A bearer token sent on every request in --auth-header (as \`Bearer <token>\` in Authorization). Never logged; prefer the environment variable to the flag, which other users of the machine can see in the process list]:TOKEN:_default' \
'--auth-header=[The header carrying --token]:NAME:_default' \
'--host-header=[\`Host\` to send instead of the runtime URL'\''s host (an ingress that routes by host name reached through another address)]:HOST:_default' \
'--protocol-version=[\`MCP-Protocol-Version\` to send on requests that carry none (never on \`initialize\`, which negotiates it)]:VERSION:_default' \
'--request-timeout=[How long to wait for the runtime'\''s response headers, e.g. 30s or 5m (0\: no limit). A stream that has started is never cut]:DURATION:_default' \
'--tls-ca-bundle=[PEM CA certificates to trust for an https runtime instead of the system'\''s trust store]:FILE:_files' \
'--tls-client-cert=[PEM client certificate (chain) to present to an https runtime]:FILE:_files' \
'--tls-client-key=[PEM private key of --tls-client-cert]:FILE:_files' \
'--human-id-header=[The gateway'\''s human identity header name]:NAME:_default' \
'--agent-id-header=[The gateway'\''s agent identity header name]:NAME:_default' \
'--team-id-header=[The gateway'\''s team identity header name]:NAME:_default' \
'--session-id-header=[The gateway'\''s agent session header name]:NAME:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(stdio)
_arguments "${_arguments_options[@]}" : \
'--runtime-url=[The server'\''s MCP endpoint behind its gateway, e.g. https\://mcp.example.com/notes/mcp]:URL:_default' \
'--human-id=[The human the agent acts for (sent in --human-id-header)]:ID:_default' \
'--agent-id=[The agent (sent in --agent-id-header)]:ID:_default' \
'--team-id=[The team (sent in --team-id-header)]:ID:_default' \
'--session-id=[The agent session, an MCPAgentSession'\''s name (sent in --session-id-header)]:NAME:_default' \
'--auth=[How the runtime authenticates the adapter\: \`header\` (identity headers, optionally with --token) or \`mtls\` (also requires a client certificate\: --tls-client-cert and --tls-client-key)]:AUTH:(header mtls)' \
'--token=[A bearer token sent on every request in --auth-header (as \`Bearer <token>\` in Authorization). Never logged; prefer the environment variable to the flag, which other users of the machine can see in the process list]:TOKEN:_default' \
'--auth-header=[The header carrying --token]:NAME:_default' \
'--host-header=[\`Host\` to send instead of the runtime URL'\''s host (an ingress that routes by host name reached through another address)]:HOST:_default' \
'--protocol-version=[\`MCP-Protocol-Version\` to send on requests that carry none (never on \`initialize\`, which negotiates it)]:VERSION:_default' \
'--request-timeout=[How long to wait for the runtime'\''s response headers, e.g. 30s or 5m (0\: no limit). A stream that has started is never cut]:DURATION:_default' \
'--tls-ca-bundle=[PEM CA certificates to trust for an https runtime instead of the system'\''s trust store]:FILE:_files' \
'--tls-client-cert=[PEM client certificate (chain) to present to an https runtime]:FILE:_files' \
'--tls-client-key=[PEM private key of --tls-client-cert]:FILE:_files' \
'--human-id-header=[The gateway'\''s human identity header name]:NAME:_default' \
'--agent-id-header=[The gateway'\''s agent identity header name]:NAME:_default' \
'--team-id-header=[The gateway'\''s team identity header name]:NAME:_default' \
'--session-id-header=[The gateway'\''s agent session header name]:NAME:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__adapter__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-adapter-help-command-$line[1]:"
        case $line[1] in
            (proxy)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(stdio)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(example-server)
_arguments "${_arguments_options[@]}" : \
'(--stdio)--http=[Serve streamable HTTP at \`/mcp\` on this address, e.g. 127.0.0.1\:8088 (port 0\: any free port). Without it the server speaks MCP on stdin/stdout]:ADDR:_default' \
'--port=[Serve HTTP on this port when \`--http\` is not given (ignored with \`--stdio\`)]:PORT:_default' \
'--address=[Address for \`--port\`/\`PORT\`]:ADDRESS:_default' \
'--stdio[Speak MCP on stdin/stdout even when \`PORT\` is set]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(guard-child)
_arguments "${_arguments_options[@]}" : \
'--parent=[The pid of the parent to outlive no longer than]:PARENT:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::command -- The program and its arguments:_default' \
&& ret=0
;;
(probe)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':kind -- The kind of check; only `tcp`:(tcp)' \
':address -- host\:port, for example 127.0.0.1\:8088:_default' \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':shell -- Shell to generate for:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-command-$line[1]:"
        case $line[1] in
            (up)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(setup)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(operator)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gateway)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(sentinel)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__sentinel_commands" \
"*::: :->sentinel" \
&& ret=0

    case $state in
    (sentinel)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-sentinel-command-$line[1]:"
        case $line[1] in
            (serve)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(events)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(bridge)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(install)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(crd)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(import)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(policy)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-policy-command-$line[1]:"
        case $line[1] in
            (render)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(server)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__server_commands" \
"*::: :->server" \
&& ret=0

    case $state in
    (server)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-server-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(generate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(render)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(connect-config)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(pin)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(policy)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__server__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-server-policy-command-$line[1]:"
        case $line[1] in
            (inspect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(catalog)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__catalog_commands" \
"*::: :->catalog" \
&& ret=0

    case $state in
    (catalog)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-catalog-command-$line[1]:"
        case $line[1] in
            (tools)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(tool)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(access)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__access_commands" \
"*::: :->access" \
&& ret=0

    case $state in
    (access)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-access-command-$line[1]:"
        case $line[1] in
            (explain)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(simulate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(grant)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant_commands" \
"*::: :->grant" \
&& ret=0

    case $state in
    (grant)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-access-grant-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(enable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(session)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__access__subcmd__session_commands" \
"*::: :->session" \
&& ret=0

    case $state in
    (session)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-access-session-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unrevoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(adapter)
_arguments "${_arguments_options[@]}" : \
":: :_mcp-runtime__subcmd__help__subcmd__adapter_commands" \
"*::: :->adapter" \
&& ret=0

    case $state in
    (adapter)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:mcp-runtime-help-adapter-command-$line[1]:"
        case $line[1] in
            (proxy)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(stdio)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(example-server)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(guard-child)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(probe)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_mcp-runtime_commands] )) ||
_mcp-runtime_commands() {
    local commands; commands=(
'up:Run the whole platform on this machine from a directory of manifests (no cluster needed)' \
'status:Show the servers of a running \`mcp-runtime up\`\: phase, URL, tools and problems' \
'setup:Install mcp-runtime into a cluster (CRDs, namespaces, RBAC, operator, Sentinel), or remove it with --uninstall' \
'operator:Run the Kubernetes operator (controllers for the three CRDs)' \
'gateway:Run the MCP gateway (the policy-enforcing reverse proxy)' \
'sentinel:Run Sentinel (audit ingest, storage, query API and UI)' \
'bridge:Serve a stdio MCP server over streamable HTTP\: \`mcp-runtime bridge -- CMD \[ARGS…\]\`' \
'install:Copy this executable elsewhere (the stdio pod'\''s init container runs it)' \
'crd:Print the CustomResourceDefinitions as YAML (for \`kubectl apply -f -\`)' \
'validate:Validate manifests as the cluster would (schema, defaults and CEL rules) without applying' \
'import:Convert kubernetes-sigs mcp-lifecycle-operator (mcp.x-k8s.io) MCPServers to this API' \
'policy:Work with rendered policy documents' \
'server:Work with MCPServers\: metadata, manifests, client configuration and the cluster verbs' \
'catalog:Browse the tools the MCPServers declare, and their drift from what the servers list live' \
'access:Inspect access\: explain decisions for a caller and a tool, simulate a change over the recorded traffic, manage grants and sessions' \
'adapter:Run the client-side adapter (a local proxy or a stdio server) that forwards to a gateway-guarded server with the identity headers' \
'example-server:Run the built-in example MCP server (stdio, or streamable HTTP with --http ADDR)' \
'guard-child:Run a command that dies with its parent (used by \`up\` for every server it starts)' \
'probe:Exit 0 when something accepts TCP connections at ADDRESS (within 1 s), 1 otherwise\: the probe of a stdio server whose bridge listens on the pod'\''s loopback address only' \
'completion:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access_commands] )) ||
_mcp-runtime__subcmd__access_commands() {
    local commands; commands=(
'explain:Explain whether a caller may call a tool, and why\: the grants considered, the session and the trust numbers. Exits 0 when allowed and 3 when denied' \
'simulate:Replay the recorded tool-call decisions (Sentinel, or \`up\`'\''s embedded store) against the policies a proposed set of manifests would render, and report every decision that would change. Exits 3 when --fail-on-new-deny or --fail-on-new-allow matches' \
'grant:MCPAccessGrants in the cluster\: init, apply, list, get, enable, disable, delete' \
'session:MCPAgentSessions in the cluster\: init, apply, list, get, revoke, unrevoke, delete' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime access commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__explain_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access explain commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant_commands() {
    local commands; commands=(
'init:Print an MCPAccessGrant manifest (validated), ready for \`access grant apply -f -\`' \
'apply:Validate and apply grant manifests (nothing is applied if one is refused)' \
'list:List the grants of a namespace (or every namespace with -A)' \
'get:Print one grant' \
'enable:Enable a grant (spec.disabled\: false)' \
'disable:Disable a grant without deleting it (spec.disabled\: true)' \
'delete:Delete a grant' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime access grant commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__disable_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant disable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__enable_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__enable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant enable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help_commands() {
    local commands; commands=(
'init:Print an MCPAccessGrant manifest (validated), ready for \`access grant apply -f -\`' \
'apply:Validate and apply grant manifests (nothing is applied if one is refused)' \
'list:List the grants of a namespace (or every namespace with -A)' \
'get:Print one grant' \
'enable:Enable a grant (spec.disabled\: false)' \
'disable:Disable a grant without deleting it (spec.disabled\: true)' \
'delete:Delete a grant' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime access grant help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__disable_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help disable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__enable_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__enable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help enable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant help list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__grant__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__grant__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access grant list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help_commands() {
    local commands; commands=(
'explain:Explain whether a caller may call a tool, and why\: the grants considered, the session and the trust numbers. Exits 0 when allowed and 3 when denied' \
'simulate:Replay the recorded tool-call decisions (Sentinel, or \`up\`'\''s embedded store) against the policies a proposed set of manifests would render, and report every decision that would change. Exits 3 when --fail-on-new-deny or --fail-on-new-allow matches' \
'grant:MCPAccessGrants in the cluster\: init, apply, list, get, enable, disable, delete' \
'session:MCPAgentSessions in the cluster\: init, apply, list, get, revoke, unrevoke, delete' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime access help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__explain_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help explain commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant_commands() {
    local commands; commands=(
'init:Print an MCPAccessGrant manifest (validated), ready for \`access grant apply -f -\`' \
'apply:Validate and apply grant manifests (nothing is applied if one is refused)' \
'list:List the grants of a namespace (or every namespace with -A)' \
'get:Print one grant' \
'enable:Enable a grant (spec.disabled\: false)' \
'disable:Disable a grant without deleting it (spec.disabled\: true)' \
'delete:Delete a grant' \
    )
    _describe -t commands 'mcp-runtime access help grant commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help grant apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help grant delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__disable_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help grant disable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__enable_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__enable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help grant enable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help grant get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help grant init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__grant__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help grant list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session_commands() {
    local commands; commands=(
'init:Print an MCPAgentSession manifest (validated), ready for \`access session apply -f -\`' \
'apply:Validate and apply session manifests (nothing is applied if one is refused)' \
'list:List the sessions of a namespace (or every namespace with -A)' \
'get:Print one session' \
'revoke:Revoke a session (spec.revoked\: true)\: its calls are denied from the next policy' \
'unrevoke:Undo a revocation' \
'delete:Delete a session' \
    )
    _describe -t commands 'mcp-runtime access help session commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help session apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help session delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help session get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help session init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help session list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__revoke_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help session revoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__unrevoke_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__session__subcmd__unrevoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help session unrevoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__help__subcmd__simulate_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__help__subcmd__simulate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access help simulate commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session_commands() {
    local commands; commands=(
'init:Print an MCPAgentSession manifest (validated), ready for \`access session apply -f -\`' \
'apply:Validate and apply session manifests (nothing is applied if one is refused)' \
'list:List the sessions of a namespace (or every namespace with -A)' \
'get:Print one session' \
'revoke:Revoke a session (spec.revoked\: true)\: its calls are denied from the next policy' \
'unrevoke:Undo a revocation' \
'delete:Delete a session' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime access session commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help_commands() {
    local commands; commands=(
'init:Print an MCPAgentSession manifest (validated), ready for \`access session apply -f -\`' \
'apply:Validate and apply session manifests (nothing is applied if one is refused)' \
'list:List the sessions of a namespace (or every namespace with -A)' \
'get:Print one session' \
'revoke:Revoke a session (spec.revoked\: true)\: its calls are denied from the next policy' \
'unrevoke:Undo a revocation' \
'delete:Delete a session' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime access session help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__revoke_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help revoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__unrevoke_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__help__subcmd__unrevoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session help unrevoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__revoke_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session revoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__session__subcmd__unrevoke_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__session__subcmd__unrevoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access session unrevoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__access__subcmd__simulate_commands] )) ||
_mcp-runtime__subcmd__access__subcmd__simulate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime access simulate commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__adapter_commands] )) ||
_mcp-runtime__subcmd__adapter_commands() {
    local commands; commands=(
'proxy:Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity headers' \
'stdio:Serve MCP on stdin/stdout (for clients that launch servers as commands), forwarding each message to --runtime-url with the identity headers' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime adapter commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__adapter__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__adapter__subcmd__help_commands() {
    local commands; commands=(
'proxy:Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity headers' \
'stdio:Serve MCP on stdin/stdout (for clients that launch servers as commands), forwarding each message to --runtime-url with the identity headers' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime adapter help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__adapter__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__adapter__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime adapter help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__adapter__subcmd__help__subcmd__proxy_commands] )) ||
_mcp-runtime__subcmd__adapter__subcmd__help__subcmd__proxy_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime adapter help proxy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__adapter__subcmd__help__subcmd__stdio_commands] )) ||
_mcp-runtime__subcmd__adapter__subcmd__help__subcmd__stdio_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime adapter help stdio commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__adapter__subcmd__proxy_commands] )) ||
_mcp-runtime__subcmd__adapter__subcmd__proxy_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime adapter proxy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__adapter__subcmd__stdio_commands] )) ||
_mcp-runtime__subcmd__adapter__subcmd__stdio_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime adapter stdio commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__bridge_commands] )) ||
_mcp-runtime__subcmd__bridge_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime bridge commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__catalog_commands] )) ||
_mcp-runtime__subcmd__catalog_commands() {
    local commands; commands=(
'tools:List the tools the MCPServers declare (spec.tools), one row per server and tool\: side effect, required trust, risk, team and description. With --drift, compare the declared names with the tools each server lists live (status.tools, from the operator'\''s handshake)' \
'tool:Show one tool in detail\: every server that declares it, and every server that lists it live without declaring it' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime catalog commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__catalog__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__catalog__subcmd__help_commands() {
    local commands; commands=(
'tools:List the tools the MCPServers declare (spec.tools), one row per server and tool\: side effect, required trust, risk, team and description. With --drift, compare the declared names with the tools each server lists live (status.tools, from the operator'\''s handshake)' \
'tool:Show one tool in detail\: every server that declares it, and every server that lists it live without declaring it' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime catalog help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__catalog__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__catalog__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime catalog help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__catalog__subcmd__help__subcmd__tool_commands] )) ||
_mcp-runtime__subcmd__catalog__subcmd__help__subcmd__tool_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime catalog help tool commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__catalog__subcmd__help__subcmd__tools_commands] )) ||
_mcp-runtime__subcmd__catalog__subcmd__help__subcmd__tools_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime catalog help tools commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__catalog__subcmd__tool_commands] )) ||
_mcp-runtime__subcmd__catalog__subcmd__tool_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime catalog tool commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__catalog__subcmd__tools_commands] )) ||
_mcp-runtime__subcmd__catalog__subcmd__tools_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime catalog tools commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__completion_commands] )) ||
_mcp-runtime__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime completion commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__crd_commands] )) ||
_mcp-runtime__subcmd__crd_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime crd commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__example-server_commands] )) ||
_mcp-runtime__subcmd__example-server_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime example-server commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__gateway_commands] )) ||
_mcp-runtime__subcmd__gateway_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime gateway commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__guard-child_commands] )) ||
_mcp-runtime__subcmd__guard-child_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime guard-child commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__help_commands() {
    local commands; commands=(
'up:Run the whole platform on this machine from a directory of manifests (no cluster needed)' \
'status:Show the servers of a running \`mcp-runtime up\`\: phase, URL, tools and problems' \
'setup:Install mcp-runtime into a cluster (CRDs, namespaces, RBAC, operator, Sentinel), or remove it with --uninstall' \
'operator:Run the Kubernetes operator (controllers for the three CRDs)' \
'gateway:Run the MCP gateway (the policy-enforcing reverse proxy)' \
'sentinel:Run Sentinel (audit ingest, storage, query API and UI)' \
'bridge:Serve a stdio MCP server over streamable HTTP\: \`mcp-runtime bridge -- CMD \[ARGS…\]\`' \
'install:Copy this executable elsewhere (the stdio pod'\''s init container runs it)' \
'crd:Print the CustomResourceDefinitions as YAML (for \`kubectl apply -f -\`)' \
'validate:Validate manifests as the cluster would (schema, defaults and CEL rules) without applying' \
'import:Convert kubernetes-sigs mcp-lifecycle-operator (mcp.x-k8s.io) MCPServers to this API' \
'policy:Work with rendered policy documents' \
'server:Work with MCPServers\: metadata, manifests, client configuration and the cluster verbs' \
'catalog:Browse the tools the MCPServers declare, and their drift from what the servers list live' \
'access:Inspect access\: explain decisions for a caller and a tool, simulate a change over the recorded traffic, manage grants and sessions' \
'adapter:Run the client-side adapter (a local proxy or a stdio server) that forwards to a gateway-guarded server with the identity headers' \
'example-server:Run the built-in example MCP server (stdio, or streamable HTTP with --http ADDR)' \
'guard-child:Run a command that dies with its parent (used by \`up\` for every server it starts)' \
'probe:Exit 0 when something accepts TCP connections at ADDRESS (within 1 s), 1 otherwise\: the probe of a stdio server whose bridge listens on the pod'\''s loopback address only' \
'completion:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access_commands() {
    local commands; commands=(
'explain:Explain whether a caller may call a tool, and why\: the grants considered, the session and the trust numbers. Exits 0 when allowed and 3 when denied' \
'simulate:Replay the recorded tool-call decisions (Sentinel, or \`up\`'\''s embedded store) against the policies a proposed set of manifests would render, and report every decision that would change. Exits 3 when --fail-on-new-deny or --fail-on-new-allow matches' \
'grant:MCPAccessGrants in the cluster\: init, apply, list, get, enable, disable, delete' \
'session:MCPAgentSessions in the cluster\: init, apply, list, get, revoke, unrevoke, delete' \
    )
    _describe -t commands 'mcp-runtime help access commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__explain_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access explain commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant_commands() {
    local commands; commands=(
'init:Print an MCPAccessGrant manifest (validated), ready for \`access grant apply -f -\`' \
'apply:Validate and apply grant manifests (nothing is applied if one is refused)' \
'list:List the grants of a namespace (or every namespace with -A)' \
'get:Print one grant' \
'enable:Enable a grant (spec.disabled\: false)' \
'disable:Disable a grant without deleting it (spec.disabled\: true)' \
'delete:Delete a grant' \
    )
    _describe -t commands 'mcp-runtime help access grant commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access grant apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access grant delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__disable_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access grant disable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__enable_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__enable_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access grant enable commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access grant get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access grant init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__grant__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access grant list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session_commands() {
    local commands; commands=(
'init:Print an MCPAgentSession manifest (validated), ready for \`access session apply -f -\`' \
'apply:Validate and apply session manifests (nothing is applied if one is refused)' \
'list:List the sessions of a namespace (or every namespace with -A)' \
'get:Print one session' \
'revoke:Revoke a session (spec.revoked\: true)\: its calls are denied from the next policy' \
'unrevoke:Undo a revocation' \
'delete:Delete a session' \
    )
    _describe -t commands 'mcp-runtime help access session commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access session apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access session delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access session get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access session init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access session list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__revoke_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access session revoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__unrevoke_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__session__subcmd__unrevoke_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access session unrevoke commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__access__subcmd__simulate_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__access__subcmd__simulate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help access simulate commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__adapter_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__adapter_commands() {
    local commands; commands=(
'proxy:Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity headers' \
'stdio:Serve MCP on stdin/stdout (for clients that launch servers as commands), forwarding each message to --runtime-url with the identity headers' \
    )
    _describe -t commands 'mcp-runtime help adapter commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__adapter__subcmd__proxy_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__adapter__subcmd__proxy_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help adapter proxy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__adapter__subcmd__stdio_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__adapter__subcmd__stdio_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help adapter stdio commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__bridge_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__bridge_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help bridge commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__catalog_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__catalog_commands() {
    local commands; commands=(
'tools:List the tools the MCPServers declare (spec.tools), one row per server and tool\: side effect, required trust, risk, team and description. With --drift, compare the declared names with the tools each server lists live (status.tools, from the operator'\''s handshake)' \
'tool:Show one tool in detail\: every server that declares it, and every server that lists it live without declaring it' \
    )
    _describe -t commands 'mcp-runtime help catalog commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__catalog__subcmd__tool_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__catalog__subcmd__tool_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help catalog tool commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__catalog__subcmd__tools_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__catalog__subcmd__tools_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help catalog tools commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__completion_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help completion commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__crd_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__crd_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help crd commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__example-server_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__example-server_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help example-server commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__gateway_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__gateway_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help gateway commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__guard-child_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__guard-child_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help guard-child commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__import_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__import_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help import commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__install_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__install_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help install commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__operator_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__operator_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help operator commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__policy_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__policy_commands() {
    local commands; commands=(
'render:Print the policy document (policy.json) the gateway of a server would load' \
    )
    _describe -t commands 'mcp-runtime help policy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__policy__subcmd__render_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__policy__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help policy render commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__probe_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__probe_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help probe commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__sentinel_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__sentinel_commands() {
    local commands; commands=(
'serve:Run the Sentinel server (the default when no subcommand is given)' \
'status:Show a running Sentinel'\''s health and event totals' \
'events:List events from a running Sentinel, newest first, with filters' \
'verify:Re-verify stored audit events against their hash chains and the signed checkpoints; report every edited, removed or reordered event and exit non-zero when there is one' \
    )
    _describe -t commands 'mcp-runtime help sentinel commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__events_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__events_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help sentinel events commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__serve_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__serve_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help sentinel serve commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help sentinel status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__verify_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__sentinel__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help sentinel verify commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server_commands() {
    local commands; commands=(
'init:Write a server'\''s metadata file (.mcp/NAME.yaml, the Go mcp-runtime'\''s format)\: route, image, tools, gateway on, an allow-list policy and required sessions' \
'generate:Turn the metadata files (.mcp/*.yaml) into MCPServer manifests, validated; nothing is written unless every server is valid' \
'render:Print the objects the operator would apply for an MCPServer (policy ConfigMap, Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE, MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …)' \
'apply:Validate manifests (as \`mcp-runtime validate\`) and, only if all are valid, apply them to the cluster by server-side apply (field manager \`mcp-runtime\`)' \
'list:List the MCPServers of a namespace (or every namespace with -A), with the CRD'\''s columns' \
'get:Print one MCPServer' \
'status:Show an MCPServer'\''s conditions and why it is not Ready' \
'delete:Delete an MCPServer (the operator'\''s garbage collection removes its children)' \
'connect-config:Print the configuration an MCP client (Claude Desktop, Cursor, VS Code) needs to reach a server\: its URL and identity headers' \
'pin:Write the digests of the server'\''s live tool definitions into its manifest (spec.tools\[\].digest)\: from the cluster'\''s status.toolDigests, or from a handshake with --url. The file is rewritten by the YAML serializer (comments are not kept)' \
'policy:Inspect the live policy of a server'\''s gateway' \
    )
    _describe -t commands 'mcp-runtime help server commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__connect-config_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__connect-config_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server connect-config commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__generate_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server generate commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__pin_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__pin_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server pin commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__policy_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__policy_commands() {
    local commands; commands=(
'inspect:Show the policy a server'\''s gateway enforces, from the live <NAME>-gateway-policy ConfigMap\: its revision and whether it is the one the operator last reported (status.policyRevision), the mode and default decision, the grants and sessions it was rendered from (subject, trust, disabled, revoked, expired) and the tools. -o json|yaml prints the document itself' \
    )
    _describe -t commands 'mcp-runtime help server policy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__policy__subcmd__inspect_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__policy__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server policy inspect commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__render_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server render commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__server__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__server__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help server status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__setup_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__setup_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help setup commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__up_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__up_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help up commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__help__subcmd__validate_commands] )) ||
_mcp-runtime__subcmd__help__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime help validate commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__import_commands] )) ||
_mcp-runtime__subcmd__import_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime import commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__install_commands] )) ||
_mcp-runtime__subcmd__install_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime install commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__operator_commands] )) ||
_mcp-runtime__subcmd__operator_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime operator commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__policy_commands] )) ||
_mcp-runtime__subcmd__policy_commands() {
    local commands; commands=(
'render:Print the policy document (policy.json) the gateway of a server would load' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime policy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__policy__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__policy__subcmd__help_commands() {
    local commands; commands=(
'render:Print the policy document (policy.json) the gateway of a server would load' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime policy help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__policy__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__policy__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime policy help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__policy__subcmd__help__subcmd__render_commands] )) ||
_mcp-runtime__subcmd__policy__subcmd__help__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime policy help render commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__policy__subcmd__render_commands] )) ||
_mcp-runtime__subcmd__policy__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime policy render commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__probe_commands] )) ||
_mcp-runtime__subcmd__probe_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime probe commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel_commands] )) ||
_mcp-runtime__subcmd__sentinel_commands() {
    local commands; commands=(
'serve:Run the Sentinel server (the default when no subcommand is given)' \
'status:Show a running Sentinel'\''s health and event totals' \
'events:List events from a running Sentinel, newest first, with filters' \
'verify:Re-verify stored audit events against their hash chains and the signed checkpoints; report every edited, removed or reordered event and exit non-zero when there is one' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime sentinel commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__events_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__events_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel events commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__help_commands() {
    local commands; commands=(
'serve:Run the Sentinel server (the default when no subcommand is given)' \
'status:Show a running Sentinel'\''s health and event totals' \
'events:List events from a running Sentinel, newest first, with filters' \
'verify:Re-verify stored audit events against their hash chains and the signed checkpoints; report every edited, removed or reordered event and exit non-zero when there is one' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime sentinel help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__events_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__events_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel help events commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__serve_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__serve_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel help serve commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel help status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__verify_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__help__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel help verify commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__serve_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__serve_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel serve commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__sentinel__subcmd__verify_commands] )) ||
_mcp-runtime__subcmd__sentinel__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime sentinel verify commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server_commands] )) ||
_mcp-runtime__subcmd__server_commands() {
    local commands; commands=(
'init:Write a server'\''s metadata file (.mcp/NAME.yaml, the Go mcp-runtime'\''s format)\: route, image, tools, gateway on, an allow-list policy and required sessions' \
'generate:Turn the metadata files (.mcp/*.yaml) into MCPServer manifests, validated; nothing is written unless every server is valid' \
'render:Print the objects the operator would apply for an MCPServer (policy ConfigMap, Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE, MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …)' \
'apply:Validate manifests (as \`mcp-runtime validate\`) and, only if all are valid, apply them to the cluster by server-side apply (field manager \`mcp-runtime\`)' \
'list:List the MCPServers of a namespace (or every namespace with -A), with the CRD'\''s columns' \
'get:Print one MCPServer' \
'status:Show an MCPServer'\''s conditions and why it is not Ready' \
'delete:Delete an MCPServer (the operator'\''s garbage collection removes its children)' \
'connect-config:Print the configuration an MCP client (Claude Desktop, Cursor, VS Code) needs to reach a server\: its URL and identity headers' \
'pin:Write the digests of the server'\''s live tool definitions into its manifest (spec.tools\[\].digest)\: from the cluster'\''s status.toolDigests, or from a handshake with --url. The file is rewritten by the YAML serializer (comments are not kept)' \
'policy:Inspect the live policy of a server'\''s gateway' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime server commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__connect-config_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__connect-config_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server connect-config commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__generate_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server generate commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help_commands() {
    local commands; commands=(
'init:Write a server'\''s metadata file (.mcp/NAME.yaml, the Go mcp-runtime'\''s format)\: route, image, tools, gateway on, an allow-list policy and required sessions' \
'generate:Turn the metadata files (.mcp/*.yaml) into MCPServer manifests, validated; nothing is written unless every server is valid' \
'render:Print the objects the operator would apply for an MCPServer (policy ConfigMap, Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE, MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …)' \
'apply:Validate manifests (as \`mcp-runtime validate\`) and, only if all are valid, apply them to the cluster by server-side apply (field manager \`mcp-runtime\`)' \
'list:List the MCPServers of a namespace (or every namespace with -A), with the CRD'\''s columns' \
'get:Print one MCPServer' \
'status:Show an MCPServer'\''s conditions and why it is not Ready' \
'delete:Delete an MCPServer (the operator'\''s garbage collection removes its children)' \
'connect-config:Print the configuration an MCP client (Claude Desktop, Cursor, VS Code) needs to reach a server\: its URL and identity headers' \
'pin:Write the digests of the server'\''s live tool definitions into its manifest (spec.tools\[\].digest)\: from the cluster'\''s status.toolDigests, or from a handshake with --url. The file is rewritten by the YAML serializer (comments are not kept)' \
'policy:Inspect the live policy of a server'\''s gateway' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime server help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__apply_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help apply commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__connect-config_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__connect-config_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help connect-config commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__delete_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help delete commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__generate_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help generate commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__get_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help get commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__pin_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__pin_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help pin commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__policy_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__policy_commands() {
    local commands; commands=(
'inspect:Show the policy a server'\''s gateway enforces, from the live <NAME>-gateway-policy ConfigMap\: its revision and whether it is the one the operator last reported (status.policyRevision), the mode and default decision, the grants and sessions it was rendered from (subject, trust, disabled, revoked, expired) and the tools. -o json|yaml prints the document itself' \
    )
    _describe -t commands 'mcp-runtime server help policy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__policy__subcmd__inspect_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__policy__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help policy inspect commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__render_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help render commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__help__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server help status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__init_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server init commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__list_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server list commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__pin_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__pin_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server pin commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__policy_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__policy_commands() {
    local commands; commands=(
'inspect:Show the policy a server'\''s gateway enforces, from the live <NAME>-gateway-policy ConfigMap\: its revision and whether it is the one the operator last reported (status.policyRevision), the mode and default decision, the grants and sessions it was rendered from (subject, trust, disabled, revoked, expired) and the tools. -o json|yaml prints the document itself' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime server policy commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__policy__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__policy__subcmd__help_commands() {
    local commands; commands=(
'inspect:Show the policy a server'\''s gateway enforces, from the live <NAME>-gateway-policy ConfigMap\: its revision and whether it is the one the operator last reported (status.policyRevision), the mode and default decision, the grants and sessions it was rendered from (subject, trust, disabled, revoked, expired) and the tools. -o json|yaml prints the document itself' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'mcp-runtime server policy help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__policy__subcmd__help__subcmd__help_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__policy__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server policy help help commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__policy__subcmd__help__subcmd__inspect_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__policy__subcmd__help__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server policy help inspect commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__policy__subcmd__inspect_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__policy__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server policy inspect commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__render_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server render commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__server__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__server__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime server status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__setup_commands] )) ||
_mcp-runtime__subcmd__setup_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime setup commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__status_commands] )) ||
_mcp-runtime__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime status commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__up_commands] )) ||
_mcp-runtime__subcmd__up_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime up commands' commands "$@"
}
(( $+functions[_mcp-runtime__subcmd__validate_commands] )) ||
_mcp-runtime__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'mcp-runtime validate commands' commands "$@"
}

if [ "$funcstack[1]" = "_mcp-runtime" ]; then
    _mcp-runtime "$@"
else
    compdef _mcp-runtime mcp-runtime
fi
