import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  type ContentBlock as ConverseContentBlock,
  type Message as ConverseMessage,
  type Tool as ConverseTool,
  type ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
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

/** The SDK's JSON document type, named through the client package rather than its transitive @smithy/types. */
type DocumentType = NonNullable<ToolUseBlock['input']>;

export interface BedrockConverseModelOptions {
  /** A Bedrock model id, inference profile id or ARN, e.g. `anthropic.claude-3-5-sonnet-20240620-v1:0`. */
  modelId: string;
  /** Defaults to the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Overrides the Bedrock runtime endpoint (VPC endpoint, or a local server in tests). */
  endpoint?: string;
  /** Static credentials; without them the SDK's default provider chain applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A ready client (custom retries, middleware); region, endpoint and credentials are then ignored. */
  client?: BedrockRuntimeClient;
}

/**
 * A {@link ModelPort} over the Bedrock Converse API with tool use.
 *
 * @example
 * ```ts
 * const model = new BedrockConverseModel({ modelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0', region: 'us-east-1' });
 * const response = await model.converse({ system: 'You are terse.', messages, tools: [], maxTokens: 1024 });
 * ```
 */
export class BedrockConverseModel implements ModelPort {
  readonly id: string;
  readonly modelId: string;
  /** The region asked for, when one was given; otherwise the SDK resolves it. */
  readonly region: string | undefined;
  readonly #client: BedrockRuntimeClient;

  constructor(options: BedrockConverseModelOptions) {
    this.modelId = options.modelId;
    this.id = `bedrock:${options.modelId}`;
    this.region = options.region;
    this.#client =
      options.client ??
      new BedrockRuntimeClient({
        ...(options.region ? { region: options.region } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
  }

  async converse(request: ModelRequest, options: { signal?: AbortSignal } = {}): Promise<ModelResponse> {
    const input = toConverseInput(this.modelId, request);
    let output: ConverseCommandOutput;
    try {
      output = await this.#client.send(new ConverseCommand(input), { abortSignal: options.signal });
    } catch (error) {
      throw describeBedrockFailure(this.id, this.region, error);
    }
    return fromConverseOutput(this.id, this.modelId, output);
  }
}

/** Builds the Converse request; exported so the mapping can be read and checked on its own. */
export function toConverseInput(modelId: string, request: ModelRequest): ConverseCommandInput {
  return {
    modelId,
    system: request.system ? [{ text: request.system }] : undefined,
    messages: request.messages.map(toConverseMessage),
    // Bedrock rejects an empty tool list, so a tool-less request sends no toolConfig at all.
    toolConfig: request.tools.length ? { tools: request.tools.map(toConverseTool) } : undefined,
    inferenceConfig: { maxTokens: request.maxTokens },
  };
}

function toConverseMessage(message: ModelMessage): ConverseMessage {
  return { role: message.role, content: message.content.map(toConverseBlock) };
}

function toConverseBlock(block: ContentBlock): ConverseContentBlock {
  switch (block.type) {
    case 'text':
      return { text: block.text };
    case 'tool_use':
      return {
        toolUse: { toolUseId: block.id, name: block.name, input: (block.input ?? {}) as DocumentType },
      };
    case 'tool_result':
      return {
        toolResult: {
          toolUseId: block.toolUseId,
          // Bedrock refuses blank text blocks, and a silent command is a normal tool result.
          content: [{ text: block.content === '' ? '(no output)' : block.content }],
          status: block.isError ? 'error' : 'success',
        },
      };
  }
}

function toConverseTool(tool: ToolSpec): ConverseTool {
  return {
    toolSpec: {
      name: tool.name,
      description: tool.description,
      inputSchema: { json: tool.inputSchema as DocumentType },
    },
  };
}

function fromConverseOutput(id: string, modelId: string, output: ConverseCommandOutput): ModelResponse {
  const blocks = output.output?.message?.content ?? [];
  const content: ContentBlock[] = [];
  for (const block of blocks) {
    if (block.text !== undefined) content.push({ type: 'text', text: block.text });
    else if (block.toolUse)
      content.push({
        type: 'tool_use',
        id: block.toolUse.toolUseId ?? '',
        name: block.toolUse.name ?? '',
        input: block.toolUse.input ?? {},
      });
    // Reasoning, citations and images have no provider-neutral form yet; the loop acts on text and tool use.
  }
  const parsed = ModelResponse.safeParse({
    model: modelId,
    content,
    stopReason: toStopReason(output.stopReason),
    usage: { inputTokens: output.usage?.inputTokens ?? 0, outputTokens: output.usage?.outputTokens ?? 0 },
  });
  if (!parsed.success) {
    throw new ModelError(
      `${id} returned a response Gantry cannot read: ${formatZodIssues(parsed.error.issues)}`,
      {
        input: id,
        hint: 'check that the model supports the Converse API with tool use; try another model id',
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

function toStopReason(reason: string | undefined): StopReason {
  switch (reason) {
    case 'end_turn':
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
    case 'content_filtered':
      return reason;
    case 'guardrail_intervened':
      return 'content_filtered';
    default:
      return 'other';
  }
}

/** Turns an SDK failure into a message that names the model and the next step, and never the credentials. */
function describeBedrockFailure(id: string, region: string | undefined, error: unknown): ModelError {
  const name = error instanceof Error ? error.name : 'Error';
  const detail = error instanceof Error ? error.message : String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const where = region ? ` in ${region}` : '';
  const hint = hintFor(name, status, where);
  const statusText = status ? ` (HTTP ${status})` : '';
  return new ModelError(`Bedrock call to ${id} failed: ${name}${statusText}: ${detail}`, {
    input: id,
    hint,
    cause: error,
  });
}

function hintFor(name: string, status: number | undefined, where: string): string {
  if (name === 'AbortError') return 'the call was cancelled; run again when ready';
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || status === 403)
    return `check that model access is enabled in the Bedrock console${where} and that your AWS credentials allow bedrock:InvokeModel`;
  if (name === 'ResourceNotFoundException' || status === 404)
    return `check the model id; list available models${where} with \`aws bedrock list-foundation-models\``;
  if (name === 'ValidationException' || status === 400)
    return 'Bedrock rejected the request: check that this model supports the Converse API with tool use and that maxTokens is within its limit';
  if (name === 'ThrottlingException' || name === 'ServiceQuotaExceededException' || status === 429)
    return 'Bedrock is throttling this account; wait and run again, or request a higher quota';
  if (name === 'CredentialsProviderError' || name === 'ExpiredTokenException')
    return 'configure AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run again';
  return `check AWS credentials, region${where} and network access to Bedrock, then run again`;
}
