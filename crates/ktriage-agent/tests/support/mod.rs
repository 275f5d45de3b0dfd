//! A fake OpenAI-compatible server on 127.0.0.1, scripted per test, and the example
//! repository the investigations run on.
//!
//! The server answers each request with the next scripted [`Reply`] (JSON, server-sent
//! events, error statuses, dropped connections, cut streams, slow answers), records every
//! request, and stops by itself: it serves one thread per connection, answers at most
//! [`MAX_REQUESTS`] requests, and shuts down when dropped or after [`LIFETIME`].

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most requests one server answers.
pub const MAX_REQUESTS: usize = 64;
/// Longest a server lives.
pub const LIFETIME: Duration = Duration::from_secs(120);

/// One scripted answer.
#[derive(Clone)]
pub enum Reply {
    /// 200 with this JSON body.
    Json(Value),
    /// 200 `text/event-stream` with these `data:` payloads, then `[DONE]`.
    Stream(Vec<Value>),
    /// 200 `text/event-stream` with these payloads, then the connection closes mid-answer.
    CutStream(Vec<Value>),
    /// An error status, with `Retry-After` seconds when given.
    Status {
        code: u16,
        retry_after: Option<u32>,
        body: String,
    },
    /// 200 with this raw body.
    Raw(String),
    /// The connection is closed without an answer.
    Drop,
    /// The reply after a pause.
    Slow(Duration, Box<Reply>),
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Header lines, as sent.
    pub headers: String,
    /// The JSON body.
    pub body: Value,
}

/// A running fake server.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    /// Starts a server answering with `script`, in order.
    pub fn start(script: Vec<Reply>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let base_url = format!("http://{}/v1", listener.local_addr().expect("local addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut served = 0;
                while !stop.load(Ordering::Relaxed)
                    && started.elapsed() < LIFETIME
                    && served < MAX_REQUESTS
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            served += 1;
                            let (requests, script, stop) =
                                (requests.clone(), script.clone(), stop.clone());
                            std::thread::spawn(move || serve(stream, &requests, &script, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        FakeServer {
            base_url,
            requests,
            stop,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    stream: TcpStream,
    requests: &Mutex<Vec<Recorded>>,
    script: &Mutex<VecDeque<Reply>>,
    stop: &AtomicBool,
) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut headers = String::new();
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = value.trim().parse().unwrap_or(0);
        }
        headers.push_str(&line);
    }
    let mut body = vec![0; content_length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    requests
        .lock()
        .expect("requests lock")
        .push(Recorded { headers, body });
    let reply = script
        .lock()
        .expect("script lock")
        .pop_front()
        .unwrap_or(Reply::Status {
            code: 418,
            retry_after: None,
            body: "the fake server's script is exhausted".to_string(),
        });
    answer(stream, reply, stop);
}

fn answer(mut stream: TcpStream, reply: Reply, stop: &AtomicBool) {
    match reply {
        Reply::Json(value) => write_response(
            &mut stream,
            200,
            "application/json",
            &[],
            value.to_string().as_bytes(),
        ),
        Reply::Raw(text) => {
            write_response(&mut stream, 200, "application/json", &[], text.as_bytes())
        }
        Reply::Status {
            code,
            retry_after,
            body,
        } => {
            let extra: Vec<String> = retry_after
                .map(|seconds| format!("Retry-After: {seconds}"))
                .into_iter()
                .collect();
            write_response(
                &mut stream,
                code,
                "application/json",
                &extra,
                body.as_bytes(),
            )
        }
        Reply::Stream(events) => {
            let mut body = String::new();
            for event in events {
                body.push_str(&format!("data: {event}\n\n"));
            }
            body.push_str("data: [DONE]\n\n");
            write_response(&mut stream, 200, "text/event-stream", &[], body.as_bytes())
        }
        Reply::CutStream(events) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
            let _ = stream.write_all(head.as_bytes());
            for event in events {
                let data = format!("data: {event}\n\n");
                let _ = stream.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes());
            }
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        Reply::Drop => {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        Reply::Slow(pause, reply) => {
            let until = Instant::now() + pause;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
            answer(stream, *reply, stop)
        }
    }
}

fn write_response(
    stream: &mut TcpStream,
    code: u16,
    content_type: &str,
    extra: &[String],
    body: &[u8],
) {
    let mut head = format!("HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// A non-streaming answer calling `calls` (name, arguments JSON text), OpenAI-style.
pub fn tool_calls(calls: &[(&str, &str)]) -> Reply {
    let calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(idx, (name, arguments))| json!({"id": format!("call_{idx}_{name}"), "type": "function", "function": {"name": name, "arguments": arguments}}))
        .collect();
    Reply::Json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "fake",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": calls}}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050}
    }))
}

/// A non-streaming prose answer, llama.cpp-style: no id, no usage, null finish_reason.
pub fn message(content: &str) -> Reply {
    Reply::Json(
        json!({"choices": [{"index": 0, "finish_reason": null, "message": {"role": "assistant", "content": content}}], "timings": {}}),
    )
}

/// The same tool calls as server-sent events, llama.cpp-style: no ids, arguments in pieces,
/// no usage.
pub fn streamed_tool_calls(calls: &[(&str, &str)]) -> Reply {
    let mut events =
        vec![json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": null}}]})];
    for (idx, (name, arguments)) in calls.iter().enumerate() {
        events.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": idx, "type": "function", "function": {"name": name, "arguments": ""}}]}, "finish_reason": null}]}));
        let mid = arguments.len() / 2;
        let mid = (0..=mid)
            .rev()
            .find(|at| arguments.is_char_boundary(*at))
            .unwrap_or(0);
        for part in [&arguments[..mid], &arguments[mid..]] {
            events.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": idx, "function": {"arguments": part}}]}}]}));
        }
    }
    events.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}));
    Reply::Stream(events)
}

/// A prose answer as server-sent events, in three pieces.
pub fn streamed_message(content: &str) -> Reply {
    let third = content.len() / 3;
    let cut = |at: usize| {
        (0..=at)
            .rev()
            .find(|at| content.is_char_boundary(*at))
            .unwrap_or(0)
    };
    let (a, b) = (cut(third), cut(2 * third));
    let mut events: Vec<Value> = [&content[..a], &content[a..b], &content[b..]]
        .iter()
        .map(|part| json!({"id": "s1", "choices": [{"index": 0, "delta": {"content": part}, "finish_reason": null}]}))
        .collect();
    events.push(json!({"id": "s1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 900, "completion_tokens": 300}}));
    Reply::Stream(events)
}

/// The bundled example repository under `dir/repo`.
pub fn example_repo(dir: &Path) -> ktriage_example::BuiltRepo {
    ktriage_example::build_repo(&ktriage_example::bundled_history(), &dir.join("repo"))
        .expect("the example builds")
}

/// The bundled example CI log of the discard panic.
pub fn example_log() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/minifs/ci/discard-panic.log"),
    )
    .expect("the example log is in the repository")
}
