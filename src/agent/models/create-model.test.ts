import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, ModelError } from '../../domain/errors.js';
import type { ModelRequest } from '../../domain/model.js';
import { BedrockConverseModel } from './bedrock.js';
import { CassetteModel } from './cassette.js';
import { createModel } from './create-model.js';
import type { OpenAICompatibleModel } from './openai.js';
import { startTestEndpoint, type TestEndpoint } from './test-endpoint.js';

const hello: ModelRequest = {
  system: 'sys',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
  tools: [],
  maxTokens: 16,
};

const chatReply = {
  status: 200,
  body: {
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: 'served-model',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
};

let endpoint: TestEndpoint | undefined;
let dir: string | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('createModel', () => {
  it('builds a CassetteModel from cassette:<path>', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'gantry-create-model-'));
    const path = join(dir, 'c.yaml');
    await writeFile(
      path,
      'version: 1\nrecorded: { model: "openai:gpt-4o", at: "2025-01-01T00:00:00Z" }\nturns: []\n',
    );

    // Act
    const model = createModel(`cassette:${path}`, {});

    // Assess
    expect(model).toBeInstanceOf(CassetteModel);
    expect(model.id).toBe('cassette:openai:gpt-4o');
  });

  it('passes cassette loading errors through as a ModelError naming the path', () => {
    // Act
    const failure = (() => {
      try {
        createModel('cassette:/no/such/cassette.yaml', {});
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).message).toContain('/no/such/cassette.yaml');
  });

  it('builds a Bedrock model keeping the colon in the model id, region from AWS_REGION', () => {
    // Act
    const model = createModel('bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0', {
      AWS_REGION: 'eu-west-1',
    });

    // Assess
    expect(model).toBeInstanceOf(BedrockConverseModel);
    expect(model.id).toBe('bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0');
    expect((model as BedrockConverseModel).modelId).toBe('anthropic.claude-3-5-sonnet-20240620-v1:0');
    expect((model as BedrockConverseModel).region).toBe('eu-west-1');
  });

  it('defaults the Bedrock region to us-east-1', () => {
    // Act
    const model = createModel('bedrock:amazon.nova-pro-v1:0', {});

    // Assess
    expect((model as BedrockConverseModel).region).toBe('us-east-1');
  });

  it('builds an OpenAI-compatible model that calls OPENAI_BASE_URL with OPENAI_API_KEY', async () => {
    // Prepare
    endpoint = await startTestEndpoint(() => chatReply);

    // Act
    const model = createModel('openai:gpt-4o-mini', {
      OPENAI_BASE_URL: `${endpoint.url}/v1`,
      OPENAI_API_KEY: 'sk-from-env',
    });
    const response = await model.converse(hello);

    // Assess
    expect(model.id).toBe('openai:gpt-4o-mini');
    expect(endpoint.received[0]?.path).toBe('/v1/chat/completions');
    expect(endpoint.received[0]?.headers.authorization).toBe('Bearer sk-from-env');
    expect(endpoint.received[0]?.body).toHaveProperty('model', 'gpt-4o-mini');
    expect(response.content).toEqual([{ type: 'text', text: 'hi' }]);
  });

  it('defaults openai to api.openai.com and asks for OPENAI_API_KEY when it is missing there', () => {
    // Act
    const withKey = createModel('openai:gpt-4o', { OPENAI_API_KEY: 'sk-x' });
    const failure = (() => {
      try {
        createModel('openai:gpt-4o', {});
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect((withKey as OpenAICompatibleModel).baseURL).toBe('https://api.openai.com/v1');
    expect(failure).toBeInstanceOf(InvalidInputError);
    expect((failure as InvalidInputError).message).toContain('OPENAI_API_KEY');
  });

  it('builds an Ollama model that calls OLLAMA_BASE_URL and keeps the tag after the colon', async () => {
    // Prepare
    endpoint = await startTestEndpoint(() => chatReply);

    // Act
    const model = createModel('ollama:qwen2.5-coder:7b', { OLLAMA_BASE_URL: `${endpoint.url}/v1` });
    await model.converse(hello);

    // Assess
    expect(model.id).toBe('ollama:qwen2.5-coder:7b');
    expect(endpoint.received[0]?.body).toHaveProperty('model', 'qwen2.5-coder:7b');
  });

  it('defaults Ollama to the local server on port 11434', () => {
    // Act
    const model = createModel('ollama:llama3.1', {});

    // Assess
    expect((model as OpenAICompatibleModel).baseURL).toBe('http://127.0.0.1:11434/v1');
  });

  it.each(['gpt-4o', 'anthropic:claude', 'bedrock:', ':x', ''])(
    'rejects the malformed spec %j with an InvalidInputError listing the accepted forms',
    (spec) => {
      // Act
      const failure = (() => {
        try {
          createModel(spec, {});
        } catch (error) {
          return error;
        }
      })();

      // Assess
      expect(failure).toBeInstanceOf(InvalidInputError);
      const error = failure as InvalidInputError;
      expect(error.message).toContain(`model spec "${spec}" cannot be read`);
      expect(error.input).toBe(spec);
      for (const form of ['cassette:<path>', 'bedrock:<modelId>', 'openai:<model>', 'ollama:<model>']) {
        expect(error.hint).toContain(form);
      }
    },
  );
});
