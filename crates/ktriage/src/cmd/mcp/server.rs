//! The MCP handler: `initialize` (through rmcp), `tools/list` and `tools/call`, served on
//! stdio until the client closes it.
//!
//! A call whose arguments the client can fix (a missing argument, an unknown symbol or path,
//! a revision that does not exist) is answered with a tool result marked `isError` and a
//! message saying what is wrong. An unknown tool is a JSON-RPC "invalid params" error, and a
//! broken index an "internal error".

use super::worker::Calls;
use anyhow::Context;
use ktriage_agent::tools::ToolError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

/// Serves `tools` on stdio until the client closes stdin; `instructions` tell the client
/// what the server is.
pub async fn serve(tools: Vec<Tool>, calls: Calls, instructions: String) -> anyhow::Result<()> {
    let config = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
        .with_server_info(Implementation::new("ktriage", env!("CARGO_PKG_VERSION")))
        .with_instructions(instructions);
    let server = Server {
        tools,
        calls,
        config,
    };
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session")?;
    let reason = running.waiting().await.context("serving MCP")?;
    tracing::info!(?reason, "session over");
    Ok(())
}

struct Server {
    tools: Vec<Tool>,
    calls: Calls,
    config: ServerConfig,
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        self.config.clone()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|tool| tool.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.get_tool(&request.name).is_none() {
            let known: Vec<&str> = self.tools.iter().map(|tool| tool.name.as_ref()).collect();
            let message = format!(
                "unknown tool `{}`; the tools are: {}",
                ktriage_agent::client::clip(&request.name, 60),
                known.join(", ")
            );
            return Err(ErrorData::invalid_params(message, None));
        }
        let answer = self
            .calls
            .call(
                request.name.into_owned(),
                request.arguments.unwrap_or_default(),
            )
            .await;
        match answer {
            Ok(output) => Ok(CallToolResult::success(vec![ContentBlock::text(output)]).into()),
            Err(ToolError::RespondToModel(message)) => {
                Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
            }
            Err(ToolError::Fatal(message)) => Err(ErrorData::internal_error(message, None)),
        }
    }
}
