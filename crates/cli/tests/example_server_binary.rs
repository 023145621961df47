//! `mcp-runtime example-server` as a process, driven by the official Rust SDK's client: over
//! stdio (the default), over `--http 127.0.0.1:0` (which prints `listening on ADDR`), and over
//! `PORT` from the environment.

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_mcp-runtime")
}

/// Lists the tools and calls `add` and `echo` through `client`.
async fn list_and_call<S: rmcp::Service<rmcp::RoleClient>>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
) {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "add",
            "countdown",
            "create_note",
            "delete_note",
            "echo",
            "list_notes"
        ]
    );
    for (tool, arguments, expected) in [
        ("add", serde_json::json!({"a": 20, "b": 22}), "42"),
        ("echo", serde_json::json!({"message": "hello"}), "hello"),
    ] {
        let serde_json::Value::Object(arguments) = arguments else {
            unreachable!()
        };
        let result = client
            .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
            .await
            .expect("tools/call");
        let text = result.content[0].as_text().expect("text").text.clone();
        assert_eq!(text, expected, "{tool}");
    }
}

/// Starts the server with `args` and `env`, returns it and the address from `listening on ADDR`.
fn start_http(args: &[&str], env: &[(&str, String)]) -> (Server, String) {
    let mut command = Command::new(binary());
    command
        .arg("example-server")
        .args(args)
        .env_remove("PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start example-server");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stderr)
        .read_line(&mut line)
        .expect("read stderr");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected `listening on ADDR`, got {line:?}"))
        .to_owned();
    (server, address)
}

#[tokio::test]
async fn stdio_is_the_default() {
    let mut command = tokio::process::Command::new(binary());
    command.arg("example-server").env_remove("PORT");
    let transport = TokioChildProcess::new(command).expect("spawn");
    let client = ().serve(transport).await.expect("initialize over stdio");
    list_and_call(&client).await;
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn stdio_flag_wins_over_port() {
    let mut command = tokio::process::Command::new(binary());
    command.args(["example-server", "--stdio"]).env("PORT", "1");
    let transport = TokioChildProcess::new(command).expect("spawn");
    let client = ().serve(transport).await.expect("initialize over stdio");
    list_and_call(&client).await;
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn http_flag_serves_mcp_on_the_printed_address() {
    let (_server, address) = start_http(&["--http", "127.0.0.1:0"], &[]);
    let client = ()
        .serve(StreamableHttpClientTransport::from_uri(format!(
            "http://{address}/mcp"
        )))
        .await
        .expect("initialize over HTTP");
    list_and_call(&client).await;
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn port_env_serves_http_on_loopback() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let (_server, address) = start_http(&[], &[("PORT", port.to_string())]);
    assert_eq!(address, format!("127.0.0.1:{port}"));
    let client = ()
        .serve(StreamableHttpClientTransport::from_uri(format!(
            "http://{address}/mcp"
        )))
        .await
        .expect("initialize over HTTP");
    list_and_call(&client).await;
    client.cancel().await.expect("close");
}
