//! The investigation loop: turns of model requests and tool calls, under budgets, with loop
//! detection and compaction, ending in the model's structured draft of the note.
//!
//! A turn is one model request and its answer. Tool calls in the answer run against the
//! read-only [`Registry`] and their results (or errors, for unknown tools and malformed
//! arguments) go back to the model in the next turn. The investigation ends when the model
//! answers without calling a tool, or a budget (turns, tool calls, estimated tokens, wall
//! time) runs out, or the same call is repeated after a warning; then one last request asks
//! for the note as JSON, with tools disabled. A model that never calls tools, or never
//! writes JSON, still yields a note from its prose.
//!
//! Every request is journaled before it is sent and every response after it arrives; on
//! resume, recorded responses are replayed instead of sent again. Model output is data:
//! it only ever selects read-only tools and their query arguments.

use crate::client::{clip, ChatResponse, ClientError, Message, ModelClient, ToolChoice};
use crate::journal::{request_hash, Journal, JournalError};
use crate::note::{extract_json, read_draft, Draft, Tokens};
use crate::tools::{Registry, ToolContext, ToolError};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Longest model answer kept in the conversation; longer answers are cut with a marker.
pub const MAX_ANSWER_CHARS: usize = 64 << 10;

/// Tool outputs kept whole when the conversation is compacted.
const KEEP_RECENT_TOOL_OUTPUTS: usize = 4;

/// Limits of one investigation.
#[derive(Debug, Clone)]
pub struct Budgets {
    /// Model requests before the note is asked for.
    pub max_turns: u32,
    /// Tool calls executed.
    pub max_tool_calls: u32,
    /// Tokens (reported, or estimated at four characters a token).
    pub max_tokens: u64,
    /// Wall time before the note is asked for.
    pub wall_time: Duration,
    /// Conversation size (characters) above which old tool outputs are compacted.
    pub compact_at_chars: usize,
    /// Longest tool output.
    pub max_tool_output_bytes: usize,
}

impl Budgets {
    /// Limits suited to one failure with a hosted or local model.
    pub fn standard(max_turns: u32) -> Budgets {
        Budgets {
            max_turns,
            max_tool_calls: 60,
            max_tokens: 400_000,
            wall_time: Duration::from_secs(20 * 60),
            compact_at_chars: 160_000,
            max_tool_output_bytes: 12_000,
        }
    }
}

/// Errors that end an investigation.
#[derive(Debug, thiserror::Error)]
pub enum InvestigateError {
    /// The model could not be reached.
    #[error(transparent)]
    Model(#[from] ClientError),
    /// The journal could not be written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A tool failed in a way the model cannot recover from.
    #[error("tool `{name}` failed: {message}")]
    Tool {
        /// The tool.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// What an investigation produced.
#[derive(Debug)]
pub struct Outcome {
    /// The model's structured draft, when it wrote one.
    pub draft: Option<Draft>,
    /// Its last prose, for the fallback note.
    pub prose: Option<String>,
    /// Model requests answered.
    pub turns: u32,
    /// Tool calls executed.
    pub tool_calls: u32,
    /// Tokens used.
    pub tokens: Tokens,
    /// Why the investigation stopped.
    pub stop_reason: String,
    /// Things that went wrong without stopping it.
    pub warnings: Vec<String>,
    /// Requests answered from the journal instead of the model.
    pub replayed: u32,
}

/// The prompts of one investigation, rendered.
pub struct Prompts {
    /// The system prompt.
    pub system: String,
    /// The dossier, as the first user message.
    pub dossier: String,
    /// Renders the request for the final answer, given why the investigation stopped (empty
    /// when the model stopped by itself).
    pub final_request: Box<dyn Fn(&str) -> String>,
    /// What the investigation ends with.
    pub ending: Ending,
}

/// What the model is asked to end an investigation with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The note as JSON ([`Draft`]); prose is only a fallback.
    Note,
    /// An answer in prose (with inline citations).
    Prose,
}

/// One investigation in progress.
struct Session<'s, 'a> {
    client: &'s ModelClient,
    registry: &'s Registry,
    tools: &'s ToolContext<'a>,
    journal: &'s mut Journal,
    budgets: &'s Budgets,
    started: Instant,
    messages: Vec<Message>,
    seq: usize,
    outcome: Outcome,
}

/// Runs an investigation to its draft.
pub async fn investigate(
    client: &ModelClient,
    registry: &Registry,
    tools: &ToolContext<'_>,
    journal: &mut Journal,
    budgets: &Budgets,
    prompts: &Prompts,
    rev_short: &str,
) -> Result<Outcome, InvestigateError> {
    let mut session = Session {
        client,
        registry,
        tools,
        journal,
        budgets,
        started: Instant::now(),
        messages: vec![
            Message::System {
                content: prompts.system.clone(),
            },
            Message::User {
                content: prompts.dossier.clone(),
            },
        ],
        seq: 0,
        outcome: Outcome {
            draft: None,
            prose: None,
            turns: 0,
            tool_calls: 0,
            tokens: Tokens::default(),
            stop_reason: String::new(),
            warnings: Vec::new(),
            replayed: 0,
        },
    };
    let reason = session.explore(rev_short, prompts.ending).await?;
    let answered = match prompts.ending {
        Ending::Note => session.outcome.draft.is_some(),
        Ending::Prose => session.outcome.prose.is_some() && reason.is_empty(),
    };
    if !answered && prompts.ending == Ending::Prose {
        session.messages.push(Message::User {
            content: (prompts.final_request)(&reason),
        });
        let (response, _) = session.request(ToolChoice::None).await?;
        let content = response
            .content
            .map(|content| clip(&content, MAX_ANSWER_CHARS));
        session.outcome.prose = content
            .filter(|text| !text.trim().is_empty())
            .or(session.outcome.prose.take());
    } else if !answered {
        session.messages.push(Message::User {
            content: (prompts.final_request)(&reason),
        });
        let (response, _) = session.request(ToolChoice::None).await?;
        if !response.tool_calls.is_empty() {
            session
                .warn("the model called tools when asked for the note; the calls were ignored")?;
        }
        let content = response
            .content
            .map(|content| clip(&content, MAX_ANSWER_CHARS));
        session.outcome.draft = content
            .as_deref()
            .and_then(extract_json)
            .and_then(|value| read_draft(&value, rev_short));
        if session.outcome.draft.is_none() {
            session.warn("the model's note was not the JSON asked for; its prose is kept")?;
            if content
                .as_deref()
                .is_some_and(|text| !text.trim().is_empty())
            {
                session.outcome.prose = content;
            }
        }
    }
    session.outcome.stop_reason = if reason.is_empty() {
        "the model finished its investigation".to_string()
    } else {
        reason
    };
    let stop = session.outcome.stop_reason.clone();
    session
        .journal
        .append(&json!({"type": "end", "stop_reason": stop}))?;
    Ok(session.outcome)
}

impl Session<'_, '_> {
    fn warn(&mut self, warning: &str) -> Result<(), InvestigateError> {
        self.outcome.warnings.push(warning.to_string());
        Ok(self.journal.event(warning)?)
    }

    /// Turns with tools until the model stops or a limit is hit; returns why it stopped
    /// (empty when the model stopped by itself).
    async fn explore(
        &mut self,
        rev_short: &str,
        ending: Ending,
    ) -> Result<String, InvestigateError> {
        let mut seen_calls: HashMap<String, u32> = HashMap::new();
        loop {
            if let Some(reason) = self.budget_exhausted() {
                self.journal.event(&reason)?;
                return Ok(reason);
            }
            if let Some(compacted) = self.compact() {
                self.journal.event(&compacted)?;
            }
            let (response, replayed) = self.request(ToolChoice::Auto).await?;
            let content = response
                .content
                .map(|content| clip(&content, MAX_ANSWER_CHARS));
            if response.tool_calls.is_empty() {
                let draft = match ending {
                    Ending::Note => content
                        .as_deref()
                        .and_then(extract_json)
                        .and_then(|value| read_draft(&value, rev_short)),
                    Ending::Prose => None,
                };
                self.messages.push(Message::Assistant {
                    content: content.clone(),
                    tool_calls: Vec::new(),
                });
                if draft.is_some() {
                    self.outcome.draft = draft;
                    return Ok(String::new());
                }
                self.outcome.prose = content.filter(|text| !text.trim().is_empty());
                return Ok(String::new());
            }
            let turn = self.seq - 1;
            let calls: Vec<_> = response
                .tool_calls
                .into_iter()
                .enumerate()
                .map(|(idx, mut call)| {
                    if call.id.is_empty() {
                        call.id = format!("ktriage-{turn}-{idx}");
                    }
                    call
                })
                .collect();
            self.messages.push(Message::Assistant {
                content,
                tool_calls: calls.clone(),
            });
            let mut stop = None;
            for call in calls {
                self.outcome.tool_calls += 1;
                let key = format!("{}\u{0}{}", call.name, canonical_arguments(&call.arguments));
                let repeats = seen_calls.entry(key).or_insert(0);
                *repeats += 1;
                let output = if self.outcome.tool_calls > self.budgets.max_tool_calls {
                    stop.get_or_insert_with(|| {
                        format!(
                            "the tool-call budget ({}) is spent",
                            self.budgets.max_tool_calls
                        )
                    });
                    "error: the tool-call budget is spent; no more tools will run".to_string()
                } else if *repeats == 2 {
                    self.warn(&format!(
                        "the model repeated the call {}({})",
                        call.name,
                        clip(&call.arguments, 200)
                    ))?;
                    "error: you already made exactly this call and its result is above; do not repeat it. \
                     Another repeat ends the investigation."
                        .to_string()
                } else if *repeats > 2 {
                    stop.get_or_insert_with(|| {
                        format!(
                            "loop detected: the model repeated {} a third time",
                            call.name
                        )
                    });
                    "error: repeated call; the investigation is stopped".to_string()
                } else {
                    self.run_tool(&call.name, &call.arguments, replayed)?
                };
                if !replayed {
                    self.journal.append(&json!({"type": "tool_call", "seq": self.seq - 1, "id": call.id, "name": call.name, "arguments": call.arguments}))?;
                    self.journal.append(&json!({"type": "tool_result", "seq": self.seq - 1, "id": call.id, "output": output}))?;
                }
                self.messages.push(Message::Tool {
                    tool_call_id: call.id,
                    content: output,
                });
            }
            if let Some(reason) = stop {
                self.journal.event(&reason)?;
                return Ok(reason);
            }
        }
    }

    fn run_tool(
        &mut self,
        name: &str,
        arguments: &str,
        replayed: bool,
    ) -> Result<String, InvestigateError> {
        match self.registry.call(self.tools, name, arguments) {
            Ok(output) => Ok(output),
            Err(ToolError::RespondToModel(message)) => Ok(format!("error: {message}")),
            Err(ToolError::Fatal(message)) => {
                if !replayed {
                    self.journal.append(&json!({"type": "tool_result", "seq": self.seq - 1, "name": name, "fatal": message}))?;
                }
                Err(InvestigateError::Tool {
                    name: name.to_string(),
                    message,
                })
            }
        }
    }

    fn budget_exhausted(&self) -> Option<String> {
        let budgets = self.budgets;
        let tokens = self.outcome.tokens.prompt + self.outcome.tokens.completion;
        if self.outcome.turns >= budgets.max_turns {
            Some(format!("the turn budget ({}) is spent", budgets.max_turns))
        } else if tokens >= budgets.max_tokens {
            Some(format!(
                "the token budget ({}) is spent",
                budgets.max_tokens
            ))
        } else if self.started.elapsed() >= budgets.wall_time {
            Some(format!(
                "the wall-time budget ({} s) is spent",
                budgets.wall_time.as_secs()
            ))
        } else {
            None
        }
    }

    /// Replaces old tool outputs by a stub when the conversation is too large.
    fn compact(&mut self) -> Option<String> {
        let total: usize = self.messages.iter().map(Message::text_len).sum();
        if total <= self.budgets.compact_at_chars {
            return None;
        }
        let tool_positions: Vec<usize> = self
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| matches!(m, Message::Tool { .. }))
            .map(|(idx, _)| idx)
            .collect();
        let old = tool_positions
            .len()
            .saturating_sub(KEEP_RECENT_TOOL_OUTPUTS);
        let (mut count, mut bytes) = (0, 0);
        for idx in &tool_positions[..old] {
            if let Message::Tool { content, .. } = &mut self.messages[*idx] {
                if content.len() > 200 {
                    bytes += content.len();
                    count += 1;
                    *content = format!(
                        "[compacted: {} bytes of earlier tool output removed to keep the context small; call the tool again if you need it]",
                        content.len()
                    );
                }
            }
        }
        (count > 0).then(|| format!("compacted {count} earlier tool outputs ({bytes} bytes) from a {total}-character conversation"))
    }

    /// Sends the conversation (or replays its recorded answer) and records the turn.
    async fn request(
        &mut self,
        choice: ToolChoice,
    ) -> Result<(ChatResponse, bool), InvestigateError> {
        let body = self
            .client
            .request_body(&self.messages, self.registry.specs(), choice);
        let hash = request_hash(&body);
        let seq = self.seq;
        self.seq += 1;
        let (response, replayed) = match self.journal.replayed(seq, hash) {
            Some(response) => {
                self.outcome.replayed += 1;
                (response, true)
            }
            None => {
                self.journal.append(&json!({"type": "request", "seq": seq, "hash": format!("{hash:x}"), "body": body}))?;
                let mut journal_error = None;
                let journal = &mut *self.journal;
                let result = self
                    .client
                    .chat(&body, &mut |event| {
                        let entry = json!({
                            "type": "retry",
                            "seq": seq,
                            "attempt": event.attempt,
                            "error": event.error.to_string(),
                            "delay_ms": event.delay.as_millis() as u64,
                        });
                        if let Err(err) = journal.append(&entry) {
                            journal_error.get_or_insert(err);
                        }
                    })
                    .await;
                if let Some(err) = journal_error {
                    return Err(err.into());
                }
                let response = match result {
                    Ok(response) => response,
                    Err(err) => {
                        self.journal.append(
                            &json!({"type": "error", "seq": seq, "error": err.to_string()}),
                        )?;
                        return Err(err.into());
                    }
                };
                self.journal.append(&json!({"type": "response", "seq": seq, "hash": format!("{hash:x}"), "response": response}))?;
                (response, false)
            }
        };
        self.outcome.turns += 1;
        let tokens = &mut self.outcome.tokens;
        match response.usage {
            Some(usage) => {
                tokens.prompt += usage.prompt_tokens;
                tokens.completion += usage.completion_tokens;
            }
            None => {
                tokens.estimated = true;
                tokens.prompt += (body.to_string().len() / 4) as u64;
                let answer_len = response.content.as_ref().map_or(0, String::len)
                    + response
                        .tool_calls
                        .iter()
                        .map(|call| call.arguments.len() + call.name.len())
                        .sum::<usize>();
                tokens.completion += (answer_len / 4) as u64;
            }
        }
        Ok((response, replayed))
    }
}

/// Arguments with object keys sorted, so that the same call written differently is the same.
fn canonical_arguments(arguments: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(arguments) {
        Ok(value) => value.to_string(),
        Err(_) => arguments.trim().to_string(),
    }
}
