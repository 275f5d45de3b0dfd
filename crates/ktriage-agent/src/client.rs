//! Model access: one chat-completion call against any OpenAI-compatible server, with
//! explicit timeouts, bounded retries and lenient response parsing.
//!
//! Requests are built from `async-openai`'s request types, so they are what OpenAI
//! documents; responses are read as raw JSON (or server-sent events) and parsed leniently,
//! because llama.cpp, vLLM and ollama deviate from OpenAI's schema: `usage`, `id` and
//! tool-call ids may be missing, `finish_reason` may be null, arguments may be an object
//! instead of a string, and extra fields appear anywhere.
//!
//! Retries happen on HTTP 408/429/5xx, timeouts, dropped connections, unreadable bodies and
//! streams cut before their end, with exponential backoff (±10% jitter) or the server's
//! `Retry-After`, at most [`RetryPolicy::max_retries`] times. The API key is only ever put in
//! the `Authorization` header; it is not part of anything this module returns.

use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestSystemMessageContent, ChatCompletionRequestToolMessage,
    ChatCompletionRequestToolMessageContent, ChatCompletionRequestUserMessage,
    ChatCompletionRequestUserMessageContent, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionToolChoiceOption, ChatCompletionTools, CreateChatCompletionRequest, FunctionCall,
    FunctionObject, ToolChoiceOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Retries are capped here whatever the configuration says.
pub const MAX_RETRIES_CAP: u32 = 20;

/// The server used when `OPENAI_BASE_URL` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// How often and how patiently to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (capped at [`MAX_RETRIES_CAP`]).
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Longest delay, including one asked for by `Retry-After`.
    pub max_delay: Duration,
}

/// Where the model is and how to talk to it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL ending before `/chat/completions`, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Bearer token, when the server wants one.
    pub api_key: Option<String>,
    /// Model name sent with every request.
    pub model: String,
    /// Ask for server-sent events instead of one JSON body.
    pub stream: bool,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole non-streaming request, or until a stream's headers arrive.
    pub request_timeout: Duration,
    /// Longest pause between two chunks of a stream.
    pub stream_idle_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// A response body longer than this is refused (not retried).
    pub max_response_bytes: usize,
}

impl ClientConfig {
    /// A configuration with the usual timeouts and retries for `model` at `base_url`.
    pub fn new(base_url: &str, api_key: Option<String>, model: &str) -> ClientConfig {
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.filter(|key| !key.is_empty()),
            model: model.to_string(),
            stream: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(300),
            stream_idle_timeout: Duration::from_secs(120),
            retry: RetryPolicy {
                max_retries: 4,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(60),
            },
            max_response_bytes: 8 << 20,
        }
    }

    /// The chat-completions endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url)
    }
}

/// One message of a conversation, as the loop keeps and journals it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    /// Instructions.
    System {
        /// The text.
        content: String,
    },
    /// A message from ktriage on the user's side.
    User {
        /// The text.
        content: String,
    },
    /// What the model said.
    Assistant {
        /// Its prose, if any.
        content: Option<String>,
        /// The tools it called.
        tool_calls: Vec<ToolCall>,
    },
    /// A tool's answer to one call.
    Tool {
        /// The call answered.
        tool_call_id: String,
        /// The tool's output.
        content: String,
    },
}

impl Message {
    /// Characters of text in the message (for context-size estimates).
    pub fn text_len(&self) -> usize {
        match self {
            Message::System { content }
            | Message::User { content }
            | Message::Tool { content, .. } => content.len(),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                content.as_ref().map_or(0, String::len)
                    + tool_calls
                        .iter()
                        .map(|call| call.name.len() + call.arguments.len())
                        .sum::<usize>()
            }
        }
    }
}

/// A tool call requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id (empty when the server sent none; the loop assigns one).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as the model wrote them (normally a JSON object).
    pub arguments: String,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Its name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON schema of its arguments.
    pub parameters: Value,
}

/// Token counts reported by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the request.
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    pub completion_tokens: u64,
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The server's response id, if it sent one.
    pub id: Option<String>,
    /// The model's prose.
    pub content: Option<String>,
    /// The tools it called.
    pub tool_calls: Vec<ToolCall>,
    /// Why it stopped, if the server said.
    pub finish_reason: Option<String>,
    /// Token counts, if the server sent them.
    pub usage: Option<Usage>,
}

/// Whether the model may call tools in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// Tools are listed but must not be called (the final, note-writing turn).
    None,
}

/// Errors from model access; each names the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status.
    #[error("model server {url} answered HTTP {status}: {body}")]
    Status {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
        /// What `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    #[error("request to {url} timed out after {}s", after.as_secs_f64())]
    Timeout {
        /// The endpoint.
        url: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The connection could not be made or broke.
    #[error("connection to {url} failed: {message}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The body was not a chat completion.
    #[error("model server {url} sent an unreadable response: {message}")]
    BadResponse {
        /// The endpoint.
        url: String,
        /// What was wrong with it.
        message: String,
    },
    /// A stream ended before its last event.
    #[error("stream from {url} ended before the response was complete")]
    CutStream {
        /// The endpoint.
        url: String,
    },
    /// The body exceeded [`ClientConfig::max_response_bytes`].
    #[error("model server {url} sent more than {limit} bytes; refusing the response")]
    TooLarge {
        /// The endpoint.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// Every attempt failed.
    #[error("gave up on {url} after {attempts} attempts; last error: {last}")]
    RetryLimit {
        /// The endpoint.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<ClientError>,
    },
}

impl ClientError {
    /// True for errors worth another attempt.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Status { status, .. } => {
                *status == 408 || *status == 429 || *status >= 500
            }
            ClientError::Timeout { .. }
            | ClientError::Transport { .. }
            | ClientError::BadResponse { .. }
            | ClientError::CutStream { .. } => true,
            ClientError::TooLarge { .. }
            | ClientError::Setup(_)
            | ClientError::RetryLimit { .. } => false,
        }
    }
}

/// A failed attempt that will be retried, reported before the wait.
#[derive(Debug)]
pub struct RetryEvent<'e> {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// Why.
    pub error: &'e ClientError,
    /// How long until the next attempt.
    pub delay: Duration,
}

/// A client for one model server.
pub struct ModelClient {
    http: reqwest::Client,
    config: ClientConfig,
}

impl ModelClient {
    /// Sets up the HTTP client.
    pub fn new(config: ClientConfig) -> Result<ModelClient, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|err| ClientError::Setup(err.to_string()))?;
        Ok(ModelClient { http, config })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The request body for a conversation, as sent (without headers).
    pub fn request_body(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        choice: ToolChoice,
    ) -> Value {
        let request = CreateChatCompletionRequest {
            model: self.config.model.clone(),
            messages: messages.iter().map(to_openai_message).collect(),
            tools: (!tools.is_empty()).then(|| tools.iter().map(to_openai_tool).collect()),
            tool_choice: (!tools.is_empty()).then_some(ChatCompletionToolChoiceOption::Mode(
                match choice {
                    ToolChoice::Auto => ToolChoiceOptions::Auto,
                    ToolChoice::None => ToolChoiceOptions::None,
                },
            )),
            stream: self.config.stream.then_some(true),
            stream_options: self.config.stream.then_some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        serde_json::to_value(&request).unwrap_or(Value::Null)
    }

    /// Sends `body`, retrying as configured; `on_retry` hears of each failed attempt first.
    pub async fn chat(
        &self,
        body: &Value,
        on_retry: &mut dyn FnMut(RetryEvent<'_>),
    ) -> Result<ChatResponse, ClientError> {
        let max_retries = self.config.retry.max_retries.min(MAX_RETRIES_CAP);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.attempt(body).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            if !error.is_retryable() {
                return Err(error);
            }
            if attempt > max_retries {
                return Err(ClientError::RetryLimit {
                    url: self.config.endpoint(),
                    attempts: attempt,
                    last: Box::new(error),
                });
            }
            let delay = self.delay(attempt, &error);
            on_retry(RetryEvent {
                attempt,
                error: &error,
                delay,
            });
            tokio::time::sleep(delay).await;
        }
    }

    fn delay(&self, attempt: u32, error: &ClientError) -> Duration {
        let policy = &self.config.retry;
        if let ClientError::Status {
            retry_after: Some(asked),
            ..
        } = error
        {
            return (*asked).min(policy.max_delay);
        }
        let exponential = policy.base_delay.saturating_mul(1 << (attempt - 1).min(16));
        jitter(exponential.min(policy.max_delay), attempt)
    }

    async fn attempt(&self, body: &Value) -> Result<ChatResponse, ClientError> {
        let url = self.config.endpoint();
        let mut request = self.http.post(&url).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let transport = |err: reqwest::Error| ClientError::Transport {
            url: url.clone(),
            message: error_chain(&err),
        };
        let timeout = ClientError::Timeout {
            url: url.clone(),
            after: self.config.request_timeout,
        };
        let deadline = tokio::time::Instant::now() + self.config.request_timeout;
        let mut response = match tokio::time::timeout_at(deadline, request.send()).await {
            Err(_) => return Err(timeout),
            Ok(result) => result.map_err(transport)?,
        };
        let status = response.status();
        let is_event_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("text/event-stream"));
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        if !status.is_success() {
            let body = self
                .read_body(&mut response, Some(deadline))
                .await
                .unwrap_or_default();
            return Err(ClientError::Status {
                url,
                status: status.as_u16(),
                body: clip(&String::from_utf8_lossy(&body), 300),
                retry_after,
            });
        }
        if is_event_stream {
            return self.read_stream(&mut response).await;
        }
        let bytes = self.read_body(&mut response, Some(deadline)).await?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|err| ClientError::BadResponse {
                url: url.clone(),
                message: format!("invalid JSON ({err})"),
            })?;
        parse_completion(&value).map_err(|message| ClientError::BadResponse { url, message })
    }

    /// Reads a whole body within the size limit, each chunk within the idle timeout and the
    /// whole before `deadline` when given.
    async fn read_body(
        &self,
        response: &mut reqwest::Response,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.next_chunk(response, deadline).await? {
            body.extend_from_slice(chunk.as_ref());
            if body.len() > self.config.max_response_bytes {
                return Err(ClientError::TooLarge {
                    url: self.config.endpoint(),
                    limit: self.config.max_response_bytes,
                });
            }
        }
        Ok(body)
    }

    async fn next_chunk(
        &self,
        response: &mut reqwest::Response,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Option<impl AsRef<[u8]>>, ClientError> {
        let url = self.config.endpoint();
        let idle = tokio::time::Instant::now() + self.config.stream_idle_timeout;
        let (until, after) = match deadline {
            Some(deadline) if deadline < idle => (deadline, self.config.request_timeout),
            _ => (idle, self.config.stream_idle_timeout),
        };
        match tokio::time::timeout_at(until, response.chunk()).await {
            Err(_) => Err(ClientError::Timeout { url, after }),
            Ok(result) => result.map_err(|err| ClientError::Transport {
                url,
                message: error_chain(&err),
            }),
        }
    }

    async fn read_stream(
        &self,
        response: &mut reqwest::Response,
    ) -> Result<ChatResponse, ClientError> {
        let url = self.config.endpoint();
        let mut stream = StreamState::default();
        let mut pending = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = self.next_chunk(response, None).await? {
            let chunk = chunk.as_ref();
            total += chunk.len();
            if total > self.config.max_response_bytes {
                return Err(ClientError::TooLarge {
                    url,
                    limit: self.config.max_response_bytes,
                });
            }
            pending.extend_from_slice(chunk);
            while let Some(newline) = pending.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = pending.drain(..=newline).collect();
                stream
                    .line(&String::from_utf8_lossy(&line))
                    .map_err(|message| ClientError::BadResponse {
                        url: url.clone(),
                        message,
                    })?;
            }
            if stream.done {
                break;
            }
        }
        if !pending.is_empty() {
            stream
                .line(&String::from_utf8_lossy(&pending))
                .map_err(|message| ClientError::BadResponse {
                    url: url.clone(),
                    message,
                })?;
        }
        if !stream.done && stream.response.finish_reason.is_none() {
            return Err(ClientError::CutStream { url });
        }
        Ok(stream.finish())
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `Retry-After` as seconds (integer or fractional); HTTP dates are not honoured.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// ±10% of `delay`, varied by the clock and the attempt.
fn jitter(delay: Duration, attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let spread = ((nanos ^ attempt.wrapping_mul(2_654_435_761)) % 2001) as f64 / 1000.0 - 1.0;
    delay.mul_f64(1.0 + 0.1 * spread)
}

/// The first `max` characters of `text`.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn to_openai_message(message: &Message) -> ChatCompletionRequestMessage {
    match message {
        Message::System { content } => {
            ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
                content: ChatCompletionRequestSystemMessageContent::Text(content.clone()),
                name: None,
            })
        }
        Message::User { content } => {
            ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
                content: ChatCompletionRequestUserMessageContent::Text(content.clone()),
                name: None,
            })
        }
        Message::Assistant {
            content,
            tool_calls,
        } => ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
            content: content
                .clone()
                .map(ChatCompletionRequestAssistantMessageContent::Text),
            tool_calls: (!tool_calls.is_empty()).then(|| {
                tool_calls
                    .iter()
                    .map(|call| {
                        ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
                            id: call.id.clone(),
                            function: FunctionCall {
                                name: call.name.clone(),
                                arguments: call.arguments.clone(),
                            },
                        })
                    })
                    .collect()
            }),
            ..Default::default()
        }),
        Message::Tool {
            tool_call_id,
            content,
        } => ChatCompletionRequestMessage::Tool(ChatCompletionRequestToolMessage {
            content: ChatCompletionRequestToolMessageContent::Text(content.clone()),
            tool_call_id: tool_call_id.clone(),
        }),
    }
}

fn to_openai_tool(spec: &ToolSpec) -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: spec.name.clone(),
            description: Some(spec.description.clone()),
            parameters: Some(spec.parameters.clone()),
            strict: None,
        },
    })
}

/// Text of a `content` field: a string, or an array of parts with `text`.
fn content_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let text: String = parts
                .iter()
                .filter_map(|part| {
                    part.get("text")
                        .and_then(Value::as_str)
                        .or_else(|| part.as_str())
                })
                .collect();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

/// Arguments as a string: servers send a JSON string, an object, or nothing.
fn arguments_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

fn parse_usage(value: &Value) -> Option<Usage> {
    let number = |key: &str| value.get(key).and_then(Value::as_u64);
    let prompt = number("prompt_tokens").or_else(|| number("input_tokens"));
    let completion = number("completion_tokens").or_else(|| number("output_tokens"));
    (prompt.is_some() || completion.is_some()).then(|| Usage {
        prompt_tokens: prompt.unwrap_or(0),
        completion_tokens: completion.unwrap_or(0),
    })
}

fn error_message(value: &Value) -> Option<String> {
    let error = value.get("error")?;
    Some(match error {
        Value::String(text) => text.clone(),
        other => other
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| other.to_string(), str::to_string),
    })
}

/// Parses a non-streaming chat completion leniently.
pub fn parse_completion(value: &Value) -> Result<ChatResponse, String> {
    let Some(choice) = value
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|choices| choices.first())
    else {
        return Err(match error_message(value) {
            Some(message) => format!("error in body: {}", clip(&message, 300)),
            None => "no `choices` in the body".to_string(),
        });
    };
    let message = choice
        .get("message")
        .or_else(|| choice.get("delta"))
        .unwrap_or(&Value::Null);
    let mut tool_calls: Vec<ToolCall> = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|call| {
            let function = call.get("function").unwrap_or(call);
            ToolCall {
                id: call
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                name: function
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                arguments: arguments_text(
                    function
                        .get("arguments")
                        .or_else(|| function.get("parameters")),
                ),
            }
        })
        .collect();
    if let Some(function) = message.get("function_call").filter(|call| call.is_object()) {
        tool_calls.push(ToolCall {
            id: String::new(),
            name: function
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            arguments: arguments_text(function.get("arguments")),
        });
    }
    Ok(ChatResponse {
        id: value.get("id").and_then(Value::as_str).map(str::to_string),
        content: message
            .get("content")
            .and_then(content_text)
            .or_else(|| choice.get("text").and_then(content_text)),
        tool_calls,
        finish_reason: choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(str::to_string),
        usage: value.get("usage").and_then(parse_usage),
    })
}

/// Accumulates server-sent chat-completion chunks.
#[derive(Default)]
struct StreamState {
    response: ChatResponseBuilder,
    done: bool,
}

#[derive(Default)]
struct ChatResponseBuilder {
    id: Option<String>,
    content: String,
    tool_calls: Vec<ToolCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl StreamState {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let line = line.trim_end_matches(['\r', '\n']);
        let Some(data) = line.strip_prefix("data:") else {
            return Ok(());
        };
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|err| format!("invalid JSON in a stream event ({err})"))?;
        if let Some(message) = error_message(&chunk) {
            return Err(format!("error event in stream: {}", clip(&message, 300)));
        }
        let response = &mut self.response;
        if response.id.is_none() {
            response.id = chunk.get("id").and_then(Value::as_str).map(str::to_string);
        }
        if let Some(usage) = chunk.get("usage").and_then(parse_usage) {
            response.usage = Some(usage);
        }
        for choice in chunk
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let delta = choice
                .get("delta")
                .or_else(|| choice.get("message"))
                .unwrap_or(&Value::Null);
            if let Some(text) = delta.get("content").and_then(content_text) {
                response.content.push_str(&text);
            }
            for (position, call) in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let index = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .map_or(position, |index| index as usize);
                if index >= 128 {
                    return Err(format!(
                        "tool-call index {index} in a stream event is out of range"
                    ));
                }
                while response.tool_calls.len() <= index {
                    response.tool_calls.push(ToolCall {
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    });
                }
                let slot = &mut response.tool_calls[index];
                if let Some(id) = call
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                {
                    slot.id = id.to_string();
                }
                let function = call.get("function").unwrap_or(&Value::Null);
                if let Some(name) = function
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|_| slot.name.is_empty())
                {
                    slot.name = name.to_string();
                }
                match function.get("arguments") {
                    Some(Value::String(part)) => slot.arguments.push_str(part),
                    Some(Value::Null) | None => {}
                    Some(other) => slot.arguments.push_str(&other.to_string()),
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                response.finish_reason = Some(reason.to_string());
            }
        }
        Ok(())
    }

    fn finish(self) -> ChatResponse {
        let response = self.response;
        ChatResponse {
            id: response.id,
            content: (!response.content.is_empty()).then_some(response.content),
            tool_calls: response.tool_calls,
            finish_reason: response.finish_reason,
            usage: response.usage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn llama_cpp_style_response_parses() {
        let body = json!({
            "choices": [{"finish_reason": null, "index": 0, "message": {
                "role": "assistant", "content": null,
                "tool_calls": [{"type": "function", "function": {"name": "def", "arguments": {"name": "f"}}}]
            }}],
            "timings": {"predicted_ms": 3}
        });
        let response = parse_completion(&body).expect("parses");
        assert_eq!(response.id, None);
        assert_eq!(response.usage, None);
        assert_eq!(response.finish_reason, None);
        assert_eq!(
            response.tool_calls,
            vec![ToolCall {
                id: String::new(),
                name: "def".into(),
                arguments: r#"{"name":"f"}"#.into()
            }]
        );
    }

    #[test]
    fn error_bodies_and_missing_choices_are_errors() {
        let error = parse_completion(&json!({"error": {"message": "model not loaded"}}));
        assert!(matches!(error, Err(message) if message.contains("model not loaded")));
        assert!(parse_completion(&json!({})).is_err());
    }

    #[test]
    fn stream_accumulates_tool_call_fragments() {
        let mut state = StreamState::default();
        for line in [
            r#"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"read","arguments":"{\"pa"}}]}}]}"#,
            r#"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\":\"x\"}"}}]}}]}"#,
            r#"data: {"choices":[{"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            "data: [DONE]",
        ] {
            state.line(line).expect("event parses");
        }
        assert!(state.done);
        let response = state.finish();
        assert_eq!(response.tool_calls[0].arguments, r#"{"path":"x"}"#);
        assert_eq!(
            response.usage,
            Some(Usage {
                prompt_tokens: 5,
                completion_tokens: 2
            })
        );
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
