import { z } from 'zod';

/** Provider-neutral conversation blocks, modelled on the Bedrock Converse shapes. */
export const ContentBlock = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string() }),
  z.strictObject({
    type: z.literal('tool_use'),
    id: z.string().min(1),
    name: z.string().min(1),
    input: z.unknown(),
  }),
  z.strictObject({
    type: z.literal('tool_result'),
    toolUseId: z.string().min(1),
    content: z.string(),
    isError: z.boolean().default(false),
  }),
]);
export type ContentBlock = z.infer<typeof ContentBlock>;

export const ModelMessage = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.array(ContentBlock).min(1),
});
export type ModelMessage = z.infer<typeof ModelMessage>;

export const ToolSpec = z.strictObject({
  name: z.string(),
  description: z.string(),
  /** JSON Schema of the tool's input. */
  inputSchema: z.record(z.string(), z.unknown()),
});
export type ToolSpec = z.infer<typeof ToolSpec>;

export const ModelRequest = z.strictObject({
  system: z.string(),
  messages: z.array(ModelMessage).min(1),
  tools: z.array(ToolSpec),
  maxTokens: z.number().int().positive().default(4096),
  /**
   * Which conversation of a run the request belongs to: `agent` (the coding loop, the default when
   * absent) or `review` (the pull request review). Only the cassette reads it, to replay each
   * conversation's own turns; live adapters ignore it and never send it to the provider.
   */
  conversation: z.string().min(1).optional(),
});
export type ModelRequest = z.infer<typeof ModelRequest>;

export const StopReason = z.enum([
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'content_filtered',
  'other',
]);
export type StopReason = z.infer<typeof StopReason>;

/** One assistant turn as the model returned it. */
export const ModelResponse = z.strictObject({
  model: z.string(),
  content: z.array(ContentBlock),
  stopReason: StopReason,
  usage: z.strictObject({ inputTokens: z.number().int().min(0), outputTokens: z.number().int().min(0) }),
});
export type ModelResponse = z.infer<typeof ModelResponse>;
