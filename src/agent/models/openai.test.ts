import { afterEach, describe, expect, it } from 'vitest';
import { ModelError } from '../../domain/errors.js';
import type { ModelRequest } from '../../domain/model.js';
import { OpenAICompatibleModel } from './openai.js';
import { type EndpointReply, startTestEndpoint, type TestEndpoint } from './test-endpoint.js';

const conversation: ModelRequest = {
  system: 'You change code in small steps.',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Fix the rounding bug.' }] },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Reading two files.' },
        { type: 'tool_use', id: 'call_1', name: 'read_file', input: { path: 'src/money.ts' } },
        { type: 'tool_use', id: 'call_2', name: 'read_file', input: { __unparsed: '{"path": "src/' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', toolUseId: 'call_1', content: 'export const round = ...', isError: false },
        { type: 'tool_result', toolUseId: 'call_2', content: 'arguments were not JSON', isError: true },
        { type: 'text', text: 'Keep going.' },
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
  maxTokens: 1024,
};

function completion(message: Record<string, unknown>, finishReason: string, model = 'qwen2.5-coder:7b') {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
    usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
  };
}

let endpoint: TestEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

async function modelAnswering(
  reply: EndpointReply,
): Promise<{ model: OpenAICompatibleModel; endpoint: TestEndpoint }> {
  endpoint = await startTestEndpoint(() => reply);
  const model = new OpenAICompatibleModel({
    baseURL: `${endpoint.url}/v1`,
    apiKey: 'sk-test-secret',
    model: 'qwen2.5-coder:7b',
    maxRetries: 0,
  });
  return { model, endpoint };
}

describe('OpenAICompatibleModel', () => {
  it('sends system, assistant tool_calls, tool messages and function tools as a chat completions body', async () => {
    // Prepare
    const { model, endpoint } = await modelAnswering({
      status: 200,
      body: completion({ content: 'ok' }, 'stop'),
    });

    // Act
    await model.converse(conversation);

    // Assess
    expect(endpoint.received).toHaveLength(1);
    const [sent] = endpoint.received;
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe('Bearer sk-test-secret');
    expect(sent?.body).toEqual({
      model: 'qwen2.5-coder:7b',
      messages: [
        { role: 'system', content: 'You change code in small steps.' },
        { role: 'user', content: 'Fix the rounding bug.' },
        {
          role: 'assistant',
          content: 'Reading two files.',
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'read_file', arguments: '{"path":"src/money.ts"}' },
            },
            { id: 'call_2', type: 'function', function: { name: 'read_file', arguments: '{"path": "src/' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'export const round = ...' },
        { role: 'tool', tool_call_id: 'call_2', content: 'ERROR: arguments were not JSON' },
        { role: 'user', content: 'Keep going.' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'read_file',
            description: 'Read a file from the workspace.',
            parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
          },
        },
      ],
      max_tokens: 1024,
      stream: false,
    });
  });

  it('sends no tools key when the request offers no tools, and null content for a tool-only assistant turn', async () => {
    // Prepare
    const { model, endpoint } = await modelAnswering({
      status: 200,
      body: completion({ content: 'ok' }, 'stop'),
    });

    // Act
    await model.converse({
      system: '',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'noop', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', toolUseId: 'c1', content: '', isError: false }] },
      ],
      tools: [],
      maxTokens: 5,
    });

    // Assess
    const body = endpoint.received[0]?.body as { messages: unknown[] };
    expect(body).not.toHaveProperty('tools');
    expect(body.messages).toEqual([
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'noop', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: '' },
    ]);
  });

  it('maps tool_calls to tool_use blocks, keeping malformed arguments as __unparsed instead of crashing', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: completion(
        {
          content: 'Looking.',
          tool_calls: [
            {
              id: 'call_a',
              type: 'function',
              function: { name: 'read_file', arguments: '{"path":"README.md"}' },
            },
            { id: 'call_b', type: 'function', function: { name: 'read_file', arguments: '{"path": README' } },
            { id: '', type: 'function', function: { name: 'list_files', arguments: '' } },
          ],
        },
        'tool_calls',
      ),
    });

    // Act
    const response = await model.converse(conversation);

    // Assess
    expect(model.id).toBe('openai:qwen2.5-coder:7b');
    expect(response).toEqual({
      model: 'qwen2.5-coder:7b',
      content: [
        { type: 'text', text: 'Looking.' },
        { type: 'tool_use', id: 'call_a', name: 'read_file', input: { path: 'README.md' } },
        { type: 'tool_use', id: 'call_b', name: 'read_file', input: { __unparsed: '{"path": README' } },
        { type: 'tool_use', id: 'call_2', name: 'list_files', input: {} },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 120, outputTokens: 30 },
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['content_filter', 'content_filtered'],
    ['something_new', 'other'],
  ])('maps finish_reason %s to stopReason %s', async (finishReason, stopReason) => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: completion({ content: 'text' }, finishReason),
    });

    // Act
    const response = await model.converse(conversation);

    // Assess
    expect(response.stopReason).toBe(stopReason);
    expect(response.content).toEqual([{ type: 'text', text: 'text' }]);
  });

  it("reads finish_reason 'stop' with tool calls as tool_use, as older Ollama servers send it", async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: completion(
        {
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'read_file', arguments: '{}' } }],
        },
        'stop',
      ),
    });

    // Act
    const response = await model.converse(conversation);

    // Assess
    expect(response.stopReason).toBe('tool_use');
    expect(response.content).toEqual([{ type: 'tool_use', id: 'c', name: 'read_file', input: {} }]);
  });

  it('turns an HTTP 404 error response into a ModelError naming the model, the endpoint and ollama pull', async () => {
    // Prepare
    const { model, endpoint } = await modelAnswering({
      status: 404,
      body: {
        error: { message: 'model "qwen2.5-coder:7b" not found, try pulling it first', type: 'api_error' },
      },
    });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(endpoint.received).toHaveLength(1);
    expect(failure).toBeInstanceOf(ModelError);
    const error = failure as ModelError;
    expect(error.input).toBe('openai:qwen2.5-coder:7b');
    expect(error.message).toContain(`openai:qwen2.5-coder:7b at ${endpoint.url}/v1 failed with HTTP 404`);
    expect(error.message).toContain('not found, try pulling it first');
    expect(error.hint).toContain('ollama pull qwen2.5-coder:7b');
    expect(error.describe()).not.toContain('sk-test-secret');
  });

  it('turns an HTTP 401 into a ModelError pointing at OPENAI_API_KEY', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 401,
      body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } },
    });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).hint).toContain('OPENAI_API_KEY');
    expect((failure as ModelError).describe()).not.toContain('sk-test-secret');
  });

  it('reports an endpoint that is not listening as a ModelError that says to start the server', async () => {
    // Prepare
    const closed = await startTestEndpoint(() => ({ status: 200, body: {} }));
    await closed.close();
    const model = new OpenAICompatibleModel({ baseURL: `${closed.url}/v1`, model: 'llama3', maxRetries: 0 });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).message).toContain(`could not reach ${closed.url}/v1 for openai:llama3`);
    expect((failure as ModelError).hint).toContain('ollama serve');
  });

  it('reports a response without a tool name as a ModelError instead of passing it on', async () => {
    // Prepare
    const { model } = await modelAnswering({
      status: 200,
      body: completion(
        {
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: '', arguments: '{}' } }],
        },
        'tool_calls',
      ),
    });

    // Act
    const failure = await model.converse(conversation).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).message).toMatch(/cannot read: content\.0\.name/);
  });
});
