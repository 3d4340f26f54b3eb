import type { ModelRequest, ModelResponse } from '../domain/model.js';

/** A language model that can use tools. Adapters: Bedrock Converse, OpenAI-compatible, cassette. */
export interface ModelPort {
  /** `provider:model`, recorded on every turn. */
  readonly id: string;
  converse(request: ModelRequest, options?: { signal?: AbortSignal }): Promise<ModelResponse>;
}
