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
      response: ModelResponse,
    }),
  ),
});
export type Cassette = z.infer<typeof Cassette>;

const RE_RECORD_HINT = 'record more turns with a live model, or run with a live model via --model';

/**
 * A {@link ModelPort} that replays a cassette file (YAML or JSON).
 *
 * Replay is stateless: the turn returned is the number of assistant messages already in the
 * request, so a run resumed from its event log gets the same answers as the run it continues.
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
    const turns = this.cassette.turns;
    const turn = turns[index];
    if (!turn) {
      throw new ModelError(
        `cassette ${this.path} holds ${turns.length} turns; the run asked for turn ${index + 1}`,
        { input: this.path, hint: RE_RECORD_HINT },
      );
    }
    const offered = new Set(request.tools.map((tool) => tool.name));
    for (const block of turn.response.content) {
      if (block.type === 'tool_use' && !offered.has(block.name)) {
        const phase = turn.phase ? ` (phase ${turn.phase})` : '';
        const names = [...offered].join(', ') || 'none';
        throw new ModelError(
          `cassette ${this.path} turn ${index + 1}${phase} calls tool '${block.name}', which this run does not offer (tools: ${names})`,
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
  readonly #turns: Array<{ phase?: string; response: ModelResponse; assistantMessages: number }> = [];
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
      turns: this.#turns.map(({ phase, response }) => (phase ? { phase, response } : { response })),
    });
  }

  /**
   * Writes the cassette as JSON for a `.json` path and as YAML otherwise, creating folders as needed.
   * Refuses when the calls did not form one growing conversation, since replay could not find its turns.
   */
  save(path: string): void {
    const stray = this.#turns.findIndex((turn, index) => turn.assistantMessages !== index);
    if (stray !== -1) {
      const turn = this.#turns[stray];
      throw new ModelError(
        `cannot save cassette ${path}: call ${stray + 1} carried ${turn?.assistantMessages} assistant messages, but replay would need ${stray} to find it`,
        {
          input: path,
          hint: 'record one conversation per cassette: each call must extend the previous one by one assistant turn',
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
