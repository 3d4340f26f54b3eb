import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { formatZodIssues, ModelError } from '../../domain/errors.js';
import {
  type ContentBlock,
  type ModelMessage,
  type ModelRequest,
  ModelResponse,
  type StopReason,
  type ToolSpec,
} from '../../domain/model.js';
import type { ModelPort } from '../../ports/model.js';

export interface OpenAICompatibleModelOptions {
  /** The API root, e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` (Ollama), a vLLM server. */
  baseURL: string;
  /** Local servers usually need none; a placeholder is sent so the SDK never falls back to OPENAI_API_KEY itself. */
  apiKey?: string;
  /** The model name the endpoint knows, e.g. `gpt-4o` or `qwen2.5-coder:7b`. */
  model: string;
  /** The provider half of `id`, so an Ollama model reads `ollama:<model>`; defaults to `openai`. */
  provider?: string;
  /** SDK retries on 429 and 5xx; tests set 0. */
  maxRetries?: number;
}

/** Marks tool-call arguments the model sent that were not valid JSON, so the gateway can refuse them visibly. */
export const UNPARSED_ARGUMENTS = '__unparsed';

/**
 * A {@link ModelPort} over any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM).
 *
 * @example
 * ```ts
 * const model = new OpenAICompatibleModel({ baseURL: 'http://127.0.0.1:11434/v1', model: 'qwen2.5-coder:7b' });
 * const response = await model.converse({ system: 'You are terse.', messages, tools, maxTokens: 1024 });
 * ```
 */
export class OpenAICompatibleModel implements ModelPort {
  readonly id: string;
  readonly model: string;
  readonly baseURL: string;
  readonly #client: OpenAI;

  constructor(options: OpenAICompatibleModelOptions) {
    this.model = options.model;
    this.baseURL = options.baseURL;
    this.id = `${options.provider ?? 'openai'}:${options.model}`;
    this.#client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey || 'not-needed',
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    });
  }

  async converse(request: ModelRequest, options: { signal?: AbortSignal } = {}): Promise<ModelResponse> {
    let completion: ChatCompletion;
    try {
      completion = await this.#client.chat.completions.create(toChatCompletionBody(this.model, request), {
        signal: options.signal,
      });
    } catch (error) {
      throw describeOpenAIFailure(this.id, this.model, this.baseURL, error);
    }
    return fromChatCompletion(this.id, this.model, completion);
  }
}

/** Builds the chat completions body; exported so the mapping can be read and checked on its own. */
export function toChatCompletionBody(model: string, request: ModelRequest) {
  const messages: ChatCompletionMessageParam[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const message of request.messages) messages.push(...toChatMessages(message));
  return {
    model,
    messages,
    // Some compatible servers reject an empty tools array, so a tool-less request sends none.
    ...(request.tools.length ? { tools: request.tools.map(toChatTool) } : {}),
    // max_tokens rather than max_completion_tokens: Ollama and vLLM read this one.
    max_tokens: request.maxTokens,
    stream: false as const,
  };
}

function toChatMessages(message: ModelMessage): ChatCompletionMessageParam[] {
  const text = message.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
  if (message.role === 'assistant') {
    const toolCalls = message.content.filter((block) => block.type === 'tool_use').map(toChatToolCall);
    return [
      {
        role: 'assistant',
        content: text || null,
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      },
    ];
  }
  // Tool messages must directly follow the assistant turn that called them, so they go before any user text.
  const out: ChatCompletionMessageParam[] = message.content
    .filter((block) => block.type === 'tool_result')
    .map((block) => ({
      role: 'tool' as const,
      tool_call_id: block.toolUseId,
      // Chat completions have no error flag on tool results; the model reads it in the text instead.
      content: block.isError ? `ERROR: ${block.content}` : block.content,
    }));
  if (text) out.push({ role: 'user', content: text });
  return out;
}

function toChatToolCall(
  block: Extract<ContentBlock, { type: 'tool_use' }>,
): ChatCompletionMessageFunctionToolCall {
  return {
    id: block.id,
    type: 'function',
    function: { name: block.name, arguments: toArgumentsString(block.input) },
  };
}

/** Sends unparsable arguments back exactly as the model wrote them, so the history stays faithful. */
function toArgumentsString(input: unknown): string {
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const record = input as Record<string, unknown>;
    const keys = Object.keys(record);
    if (
      keys.length === 1 &&
      keys[0] === UNPARSED_ARGUMENTS &&
      typeof record[UNPARSED_ARGUMENTS] === 'string'
    ) {
      return record[UNPARSED_ARGUMENTS];
    }
  }
  return JSON.stringify(input ?? {});
}

function toChatTool(tool: ToolSpec): ChatCompletionTool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  };
}

function fromChatCompletion(id: string, model: string, completion: ChatCompletion): ModelResponse {
  const choice = completion.choices?.[0];
  const content: ContentBlock[] = [];
  if (choice?.message?.content) content.push({ type: 'text', text: choice.message.content });
  (choice?.message?.tool_calls ?? []).forEach((call, index) => {
    if (call.type !== 'function') return;
    content.push({
      type: 'tool_use',
      // Some local servers leave the id blank; the loop needs one to pair the result with the call.
      id: call.id || `call_${index}`,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  });
  const hasToolUse = content.some((block) => block.type === 'tool_use');
  const parsed = ModelResponse.safeParse({
    model: completion.model || model,
    content,
    stopReason: toStopReason(choice?.finish_reason, hasToolUse),
    usage: {
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    },
  });
  if (!parsed.success) {
    throw new ModelError(
      `${id} returned a response Gantry cannot read: ${formatZodIssues(parsed.error.issues)}`,
      {
        input: id,
        hint: 'check that the endpoint implements OpenAI chat completions with tool calling for this model',
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

function parseArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    return { [UNPARSED_ARGUMENTS]: raw };
  }
}

function toStopReason(reason: string | null | undefined, hasToolUse: boolean): StopReason {
  switch (reason) {
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'stop':
      // Some servers (older Ollama) report 'stop' even when the turn ends in tool calls.
      return hasToolUse ? 'tool_use' : 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'content_filter':
      return 'content_filtered';
    default:
      return 'other';
  }
}

/** Turns an SDK failure into a message that names the model, the endpoint and the next step; never the key. */
function describeOpenAIFailure(id: string, model: string, baseURL: string, error: unknown): ModelError {
  if (error instanceof OpenAI.APIUserAbortError) {
    return new ModelError(`call to ${id} at ${baseURL} was cancelled`, {
      input: id,
      hint: 'run again when ready',
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new ModelError(`could not reach ${baseURL} for ${id}: ${error.message}`, {
      input: id,
      hint: 'check the base URL (OPENAI_BASE_URL or OLLAMA_BASE_URL) and that the server is running, e.g. `ollama serve`',
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status;
    return new ModelError(`${id} at ${baseURL} failed with HTTP ${status ?? '?'}: ${error.message}`, {
      input: id,
      hint: hintForStatus(status, model),
      cause: error,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ModelError(`call to ${id} at ${baseURL} failed: ${detail}`, {
    input: id,
    hint: 'check the endpoint and run again',
    cause: error,
  });
}

function hintForStatus(status: number | undefined, model: string): string {
  if (status === 401 || status === 403) return 'check OPENAI_API_KEY: the endpoint refused the key';
  if (status === 404)
    return `check the model name and the base URL; for Ollama, pull the model first with \`ollama pull ${model}\``;
  if (status === 429) return 'the endpoint is rate limiting or out of quota; wait and run again';
  if (status === 400) return 'the endpoint rejected the request: check that this model supports tool calling';
  if (status !== undefined && status >= 500) return 'the endpoint failed on its side; run again later';
  return 'check the endpoint and run again';
}
