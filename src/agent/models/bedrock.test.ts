import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelError } from '../../domain/errors.js';
import type { ModelRequest } from '../../domain/model.js';
import { BedrockConverseModel } from './bedrock.js';
import { type EndpointReply, startTestEndpoint, type TestEndpoint } from './test-endpoint.js';

const MODEL_ID = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };

const conversation: ModelRequest = {
  system: 'You change code in small steps.',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Fix the rounding bug.' }] },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Reading the file first.' },
        { type: 'tool_use', id: 'tu-1', name: 'read_file', input: { path: 'src/money.ts' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', toolUseId: 'tu-1', content: 'no such file', isError: true },
        { type: 'tool_result', toolUseId: 'tu-0', content: '', isError: false },
      ],
    },
  ],
  tools: [
    {
      name: 'read_file',
      description: 'Read a file from the workspace.',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    },
  ],
  maxTokens: 2048,
};

let endpoint: TestEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

async function modelAnswering(
  reply: EndpointReply,
): Promise<{ model: BedrockConverseModel; endpoint: TestEndpoint }> {
  endpoint = await startTestEndpoint(() => reply, 'http2');
  const model = new BedrockConverseModel({
    modelId: MODEL_ID,
    region: 'us-east-1',
    endpoint: endpoint.url,
    credentials: CREDENTIALS,
  });
  return { model, endpoint };
}

describe('BedrockConverseModel', () => {
  it('sends system, messages with toolUse and toolResult, toolConfig and maxTokens as Converse JSON', async () => {
    // Prepare
    const { model, endpoint } = await modelAnswering({
      status: 200,
      body: {
        output: { message: { role: 'assistant', content: [{ text: 'done' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      },
    });

    // Act
    await model.converse(conversation);

    // Assess
    expect(endpoint.received).toHaveLength(1);
    const [sent] = endpoint.received;
    expect(sent?.method).toBe('POST');
    expect(decodeURIComponent(sent?.path ?? '')).toBe(`/model/${MODEL_ID}/converse`);
    expect(String(sent?.headers.authorization)).toContain('Credential=AKIDEXAMPLE/');
    expect(sent?.body).toEqual({
      system: [{ text: 'You change code in small steps.' }],
      messages: [
        { role: 'user', content: [{ text: 'Fix the rounding bug.' }] },
        {
          role: 'assistant',
          content: [
            { text: 'Reading the file first.' },
            { toolUse: { toolUseId: 'tu-1', name: 'read_file', input: { path: 'src/money.ts' } } },
          ],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'tu-1', content: [{ text: 'no such file' }], status: 'error' } },
            { toolResult: { toolUseId: 'tu-0', content: [{ text: '(no output)' }], status: 'success' } },
          ],
        },
      ],
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'read_file',
              description: 'Read a file from the workspace.',
              inputSchema: {
                json: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
              },
            },
          },
        ],
      },
      inferenceConfig: { maxTokens: 2048 },
    });
  });

  it('leaves out toolConfig when the request offers no tools', async () => {
    // Prepare
    const { model, endpoint } = await modelAnswering({
      status: 200,
      body: {
        output: { message: { role: 'assistant', content: [{ text: 'hi' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      },
    });

    // Act
    await model.converse({
      system: 's',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
      tools: [],
      maxTokens: 10,
    });

    // Assess
    expect(endpoint.received[0]?.body).not.toHaveProperty('toolConfig');
  });

  it('maps a toolUse response to a tool_use block with stopReason tool_use and usage', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: {
        output: {
          message: {
            role: 'assistant',
            content: [
              { text: 'Let me look.' },
              { toolUse: { toolUseId: 'tooluse_abc', name: 'read_file', input: { path: 'README.md' } } },
            ],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 321, outputTokens: 45, totalTokens: 366 },
        metrics: { latencyMs: 12 },
      },
    });

    // Act
    const response = await model.converse(conversation);

    // Assess
    expect(model.id).toBe(`bedrock:${MODEL_ID}`);
    expect(response).toEqual({
      model: MODEL_ID,
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'tooluse_abc', name: 'read_file', input: { path: 'README.md' } },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 321, outputTokens: 45 },
    });
  });

  it('maps an end_turn text response', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: {
        output: { message: { role: 'assistant', content: [{ text: 'The fix is in.' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 10, outputTokens: 4, totalTokens: 14 },
      },
    });

    // Act
    const response = await model.converse(conversation);

    // Assess
    expect(response).toEqual({
      model: MODEL_ID,
      content: [{ type: 'text', text: 'The fix is in.' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 10, outputTokens: 4 },
    });
  });

  it('maps guardrail and unknown stop reasons onto the neutral set', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: {
        output: { message: { role: 'assistant', content: [{ text: 'blocked' }] } },
        stopReason: 'guardrail_intervened',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      },
    });

    // Act
    const response = await model.converse(conversation);

    // Assess
    expect(response.stopReason).toBe('content_filtered');
  });

  it('turns an HTTP 403 AccessDeniedException into a ModelError naming the model and the Bedrock console', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 403,
      headers: {
        'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/',
      },
      body: { message: "You don't have access to the model with the specified model ID." },
    });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    const error = failure as ModelError;
    expect(error.input).toBe(`bedrock:${MODEL_ID}`);
    expect(error.message).toContain(`bedrock:${MODEL_ID}`);
    expect(error.message).toContain('AccessDeniedException');
    expect(error.message).toContain("You don't have access to the model");
    expect(error.hint).toContain('Bedrock console in us-east-1');
    expect(error.describe()).not.toContain('AKIDEXAMPLE');
  });

  it('turns an HTTP 400 ValidationException into a ModelError that says what Bedrock rejected', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 400,
      headers: { 'x-amzn-errortype': 'ValidationException' },
      body: { message: 'The provided model identifier is invalid.' },
    });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    const error = failure as ModelError;
    expect(error.message).toContain('ValidationException (HTTP 400)');
    expect(error.message).toContain('The provided model identifier is invalid.');
    expect(error.hint).toContain('Converse API with tool use');
  });

  it('rejects a response that does not fit ModelResponse, such as a toolUse without a name', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: {
        output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', input: {} } }] } },
        stopReason: 'tool_use',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      },
    });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).message).toMatch(/cannot read: content\.0\.name/);
  });

  it('uses a client passed in, and reports an unreachable endpoint as a ModelError', async () => {
    // Prepare: a port that was open a moment ago and is closed now refuses connections.
    const closed = await startTestEndpoint(() => ({ status: 200, body: {} }), 'http2');
    await closed.close();
    const client = new BedrockRuntimeClient({
      region: 'eu-west-1',
      endpoint: closed.url,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    const model = new BedrockConverseModel({ modelId: MODEL_ID, client });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).message).toContain(`Bedrock call to bedrock:${MODEL_ID} failed`);
    expect((failure as ModelError).hint).toContain('network access to Bedrock');
  });
});
