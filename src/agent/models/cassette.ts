import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { formatZodIssues, ModelError } from '../../domain/errors.js';
import { type ModelRequest, ModelResponse } from '../../domain/model.js';
import type { ModelPort } from '../../ports/model.js';

/** A recorded model conversation, replayed turn by turn by {@link CassetteModel}. */
export const Cassette = z.strictObject({
  version: z.literal(1),
  recorded: z.strictObject({
    /** The id of the model that produced the turns, e.g. `bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0`. */
    model: z.string().min(1),
    at: z.iso.datetime({ offset: true }),
    note: z.string().optional(),
  }),
  turns: z.array(
    z.strictObject({
      /** The loop phase that asked for this turn (plan, edit, test...), for a person reading the cassette. */
      phase: z.string().optional(),
      /**
       * The conversation of the run this turn answers (`agent` when absent, `review`...). Each
       * conversation replays its own turns, counted from its first.
       */
      conversation: z.string().min(1).optional(),
      response: ModelResponse,
    }),
  ),
});
export type Cassette = z.infer<typeof Cassette>;

const RE_RECORD_HINT = 'record more turns with a live model, or run with a live model via --model';

/** The conversation a request or turn without one belongs to: the coding agent's. */
export const DEFAULT_CONVERSATION = 'agent';

/**
 * A {@link ModelPort} that replays a cassette file (YAML or JSON).
 *
 * Replay is stateless: the turn returned is the number of assistant messages already in the
 * request, counted among the turns of the request's conversation (`agent` unless the request names
 * another, such as `review`), so a run resumed from its event log gets the same answers as the run
 * it continues, and a review does not consume the coding agent's turns.
 *
 * @example
 * ```ts
 * const model = new CassetteModel('examples/billing-service/cassette.yaml');
 * const first = await model.converse(request); // turn 1 of the cassette
 * ```
 */
export class CassetteModel implements ModelPort {
  readonly id: string;
  readonly path: string;
  readonly cassette: Cassette;

  /** Reads and validates the cassette now, so a bad path fails before the run starts. */
  constructor(path: string) {
    this.path = path;
    this.cassette = readCassette(path);
    this.id = `cassette:${this.cassette.recorded.model}`;
  }

  async converse(request: ModelRequest, options: { signal?: AbortSignal } = {}): Promise<ModelResponse> {
    if (options.signal?.aborted) {
      throw new ModelError(`replay of cassette ${this.path} was cancelled`, {
        input: this.path,
        hint: 'run again when ready',
        cause: options.signal.reason,
      });
    }
    const index = request.messages.filter((message) => message.role === 'assistant').length;
    const conversation = request.conversation ?? DEFAULT_CONVERSATION;
    const turns = this.cassette.turns.filter(
      (candidate) => (candidate.conversation ?? DEFAULT_CONVERSATION) === conversation,
    );
    // Cassettes from before conversations existed keep their messages word for word.
    const named = this.cassette.turns.length !== turns.length || conversation !== DEFAULT_CONVERSATION;
    const of = named ? ` of conversation '${conversation}'` : '';
    const turn = turns[index];
    if (!turn) {
      throw new ModelError(
        turns.length === 0
          ? `cassette ${this.path} holds no turns of conversation '${conversation}'; the run asked for turn ${index + 1}`
          : `cassette ${this.path} holds ${turns.length} turns${of}; the run asked for turn ${index + 1}`,
        {
          input: this.path,
          hint:
            turns.length === 0
              ? `record the '${conversation}' conversation with a live model (RecordingModel), or run with a live model via --model`
              : RE_RECORD_HINT,
        },
      );
    }
    const offered = new Set(request.tools.map((tool) => tool.name));
    for (const block of turn.response.content) {
      if (block.type === 'tool_use' && !offered.has(block.name)) {
        const phase = turn.phase ? ` (phase ${turn.phase})` : '';
        const names = [...offered].join(', ') || 'none';
        throw new ModelError(
          `cassette ${this.path} turn ${index + 1}${of}${phase} calls tool '${block.name}', which this run does not offer (tools: ${names})`,
          {
            input: this.path,
            hint: 'the cassette diverged from this version of the tools; re-record it with a live model via --model',
          },
        );
      }
    }
    // A copy, so a caller that edits the response cannot change what the next replay returns.
    return structuredClone(turn.response);
  }
}

function readCassette(path: string): Cassette {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelError(
      missing
        ? `cassette ${path} does not exist`
        : `cassette ${path} cannot be read: ${(error as Error).message}`,
      {
        input: path,
        hint: `check the path after cassette: (relative paths start at ${process.cwd()}), or run with a live model via --model`,
        cause: error,
      },
    );
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new ModelError(`cassette ${path} is not valid YAML or JSON: ${(error as Error).message}`, {
      input: path,
      hint: 'fix the syntax at the position shown, or record the cassette again',
      cause: error,
    });
  }
  const parsed = Cassette.safeParse(data);
  if (!parsed.success) {
    throw new ModelError(`cassette ${path} is invalid: ${formatZodIssues(parsed.error.issues)}`, {
      input: path,
      hint: 'fix the fields listed, or record the cassette again',
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/**
 * Wraps a live {@link ModelPort} and keeps every response, so `save` can write a cassette that
 * {@link CassetteModel} replays. Set `phase` before each call to label the turns.
 *
 * @example
 * ```ts
 * const recorder = new RecordingModel(new BedrockConverseModel({ modelId }), { note: 'billing example' });
 * recorder.phase = 'plan';
 * await recorder.converse(request);
 * recorder.save('examples/billing-service/cassette.yaml');
 * ```
 */
export class RecordingModel implements ModelPort {
  readonly id: string;
  /** Labels the turns recorded from now on. */
  phase: string | undefined;
  readonly #inner: ModelPort;
  readonly #note: string | undefined;
  readonly #turns: Array<{
    phase?: string;
    conversation?: string;
    response: ModelResponse;
    assistantMessages: number;
  }> = [];
  #startedAt: string | undefined;

  constructor(inner: ModelPort, options: { note?: string; phase?: string } = {}) {
    this.#inner = inner;
    this.id = inner.id;
    this.#note = options.note;
    this.phase = options.phase;
  }

  async converse(request: ModelRequest, options: { signal?: AbortSignal } = {}): Promise<ModelResponse> {
    this.#startedAt ??= new Date().toISOString();
    const response = await this.#inner.converse(request, options);
    this.#turns.push({
      ...(this.phase ? { phase: this.phase } : {}),
      // The default stays implicit, so an agent-only cassette reads as it always did.
      ...(request.conversation && request.conversation !== DEFAULT_CONVERSATION
        ? { conversation: request.conversation }
        : {}),
      response: structuredClone(response),
      assistantMessages: request.messages.filter((message) => message.role === 'assistant').length,
    });
    return response;
  }

  /** The cassette recorded so far. */
  cassette(): Cassette {
    return Cassette.parse({
      version: 1,
      recorded: {
        model: this.#inner.id,
        at: this.#startedAt ?? new Date().toISOString(),
        ...(this.#note ? { note: this.#note } : {}),
      },
      turns: this.#turns.map(({ phase, conversation, response }) => ({
        ...(phase ? { phase } : {}),
        ...(conversation ? { conversation } : {}),
        response,
      })),
    });
  }

  /**
   * Writes the cassette as JSON for a `.json` path and as YAML otherwise, creating folders as needed.
   * Refuses when the calls of a conversation did not form one growing exchange, since replay could
   * not find their turns.
   */
  save(path: string): void {
    const seen = new Map<string, number>();
    const stray = this.#turns.findIndex((turn) => {
      const conversation = turn.conversation ?? DEFAULT_CONVERSATION;
      const position = seen.get(conversation) ?? 0;
      seen.set(conversation, position + 1);
      return turn.assistantMessages !== position;
    });
    if (stray !== -1) {
      const turn = this.#turns[stray];
      const needed = this.#turns
        .slice(0, stray)
        .filter(
          (earlier) =>
            (earlier.conversation ?? DEFAULT_CONVERSATION) === (turn?.conversation ?? DEFAULT_CONVERSATION),
        ).length;
      const of = turn?.conversation ? ` of conversation '${turn.conversation}'` : '';
      throw new ModelError(
        `cannot save cassette ${path}: call ${stray + 1}${of} carried ${turn?.assistantMessages} assistant messages, but replay would need ${needed} to find it`,
        {
          input: path,
          hint: 'each call of a conversation must extend the previous one by one assistant turn; give a separate exchange its own conversation on the request',
        },
      );
    }
    const cassette = this.cassette();
    const text =
      extname(path).toLowerCase() === '.json'
        ? `${JSON.stringify(cassette, null, 2)}\n`
        : stringifyYaml(cassette, { aliasDuplicateObjects: false, lineWidth: 0 });
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileSync(path, text, 'utf8');
  }
}
