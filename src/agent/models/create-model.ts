import { InvalidInputError } from '../../domain/errors.js';
import type { ModelPort } from '../../ports/model.js';
import { BedrockConverseModel } from './bedrock.js';
import { CassetteModel } from './cassette.js';
import { OpenAICompatibleModel } from './openai.js';

const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
const DEFAULT_OLLAMA_BASE_URL = 'http://127.0.0.1:11434/v1';
const DEFAULT_AWS_REGION = 'us-east-1';

/** The `--model` forms a person may write, shown whenever a spec cannot be read. */
export const MODEL_SPEC_FORMS = [
  'cassette:<path>           replay a recorded cassette (YAML or JSON)',
  'bedrock:<modelId>         Amazon Bedrock Converse; region from AWS_REGION (default us-east-1)',
  'openai:<model>            OpenAI-compatible endpoint; OPENAI_BASE_URL (default https://api.openai.com/v1), OPENAI_API_KEY',
  'ollama:<model>            Ollama; OLLAMA_BASE_URL (default http://127.0.0.1:11434/v1)',
] as const;

/**
 * Builds the model a spec names. Everything after the first `:` is the model or path, since
 * Bedrock ids (`...-v1:0`) and Ollama tags (`qwen2.5-coder:7b`) contain colons themselves.
 *
 * @example
 * ```ts
 * const model = createModel('cassette:examples/billing-service/cassette.yaml');
 * const live = createModel('bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0', { AWS_REGION: 'eu-west-1' });
 * ```
 */
export function createModel(spec: string, env: NodeJS.ProcessEnv = process.env): ModelPort {
  const separator = spec.indexOf(':');
  const provider = separator === -1 ? '' : spec.slice(0, separator);
  const name = separator === -1 ? '' : spec.slice(separator + 1).trim();
  if (!name) throw malformed(spec, 'it needs a provider and a model, separated by ":"');
  switch (provider) {
    case 'cassette':
      return new CassetteModel(name);
    case 'bedrock':
      return new BedrockConverseModel({ modelId: name, region: env.AWS_REGION || DEFAULT_AWS_REGION });
    case 'openai': {
      const baseURL = env.OPENAI_BASE_URL || DEFAULT_OPENAI_BASE_URL;
      if (!env.OPENAI_API_KEY && baseURL === DEFAULT_OPENAI_BASE_URL) {
        throw new InvalidInputError(`model ${spec} needs OPENAI_API_KEY, which is not set`, {
          input: spec,
          hint: 'set OPENAI_API_KEY, or point OPENAI_BASE_URL at a compatible server that needs no key',
        });
      }
      return new OpenAICompatibleModel({ baseURL, apiKey: env.OPENAI_API_KEY, model: name });
    }
    case 'ollama':
      return new OpenAICompatibleModel({
        baseURL: env.OLLAMA_BASE_URL || DEFAULT_OLLAMA_BASE_URL,
        model: name,
        provider: 'ollama',
      });
    default:
      throw malformed(spec, `"${provider}" is not a known provider`);
  }
}

function malformed(spec: string, reason: string): InvalidInputError {
  return new InvalidInputError(`model spec "${spec}" cannot be read: ${reason}`, {
    input: spec,
    hint: `use one of:\n    ${MODEL_SPEC_FORMS.join('\n    ')}`,
  });
}
