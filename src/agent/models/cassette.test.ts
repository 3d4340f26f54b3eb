import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ModelError } from '../../domain/errors.js';
import type { ModelMessage, ModelRequest, ModelResponse } from '../../domain/model.js';
import { Cassette, CassetteModel, RecordingModel } from './cassette.js';

const READ_FILE = {
  name: 'read_file',
  description: 'Read a file from the workspace.',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
};

const CASSETTE_YAML = `version: 1
recorded:
  model: bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0
  at: "2025-05-01T12:00:00Z"
  note: billing example
turns:
  - phase: explore
    response:
      model: anthropic.claude-3-5-sonnet-20240620-v1:0
      content:
        - type: text
          text: Reading the money module.
        - type: tool_use
          id: tu-1
          name: read_file
          input:
            path: src/money.ts
      stopReason: tool_use
      usage: { inputTokens: 100, outputTokens: 20 }
  - phase: finish
    response:
      model: anthropic.claude-3-5-sonnet-20240620-v1:0
      content:
        - type: text
          text: Done.
      stopReason: end_turn
      usage: { inputTokens: 150, outputTokens: 5 }
`;

const userSays = (text: string): ModelMessage => ({ role: 'user', content: [{ type: 'text', text }] });
const assistantSays = (text: string): ModelMessage => ({
  role: 'assistant',
  content: [{ type: 'text', text }],
});

function requestWith(messages: ModelMessage[], tools = [READ_FILE]): ModelRequest {
  return { system: 'sys', messages, tools, maxTokens: 100 };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-cassette-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cassetteFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, 'utf8');
  return path;
}

async function failureOf(action: () => unknown): Promise<ModelError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    return error as ModelError;
  }
  throw new Error('expected a ModelError, and nothing was thrown');
}

describe('CassetteModel', () => {
  it('replays the turn whose number is the count of assistant messages in the request', async () => {
    // Prepare
    const model = new CassetteModel(await cassetteFile('run.yaml', CASSETTE_YAML));

    // Act
    const first = await model.converse(requestWith([userSays('fix it')]));
    const second = await model.converse(
      requestWith([userSays('fix it'), assistantSays('reading'), userSays('here is the file')]),
    );

    // Assess
    expect(model.id).toBe('cassette:bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0');
    expect(first.stopReason).toBe('tool_use');
    expect(first.content[1]).toEqual({
      type: 'tool_use',
      id: 'tu-1',
      name: 'read_file',
      input: { path: 'src/money.ts' },
    });
    expect(second).toEqual({
      model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
      content: [{ type: 'text', text: 'Done.' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 150, outputTokens: 5 },
    });
  });

  it('is stateless: a resumed run starting mid-conversation gets the later turn, and repeats are identical', async () => {
    // Prepare
    const model = new CassetteModel(await cassetteFile('run.yaml', CASSETTE_YAML));
    const resumed = requestWith([userSays('fix it'), assistantSays('reading'), userSays('file')]);

    // Act
    const once = await model.converse(resumed);
    once.content.push({ type: 'text', text: 'a caller edited this' });
    const again = await model.converse(resumed);

    // Assess
    expect(again.content).toEqual([{ type: 'text', text: 'Done.' }]);
  });

  it('reads a JSON cassette too', async () => {
    // Prepare
    const json = JSON.stringify(parseYaml(CASSETTE_YAML));
    const model = new CassetteModel(await cassetteFile('run.json', json));

    // Act
    const response = await model.converse(requestWith([userSays('go')]));

    // Assess
    expect(response.content[0]).toEqual({ type: 'text', text: 'Reading the money module.' });
  });

  it('fails with a ModelError naming the path when the file is missing', async () => {
    // Prepare
    const path = join(dir, 'nope.yaml');

    // Act
    const error = await failureOf(() => new CassetteModel(path));

    // Assess
    expect(error.message).toBe(`cassette ${path} does not exist`);
    expect(error.input).toBe(path);
    expect(error.hint).toContain('--model');
  });

  it('fails with a ModelError when the file is not YAML', async () => {
    // Prepare
    const path = await cassetteFile('broken.yaml', 'version: 1\nturns: [\n  - oops: "unclosed\n');

    // Act
    const error = await failureOf(() => new CassetteModel(path));

    // Assess
    expect(error.message).toContain(`cassette ${path} is not valid YAML or JSON`);
  });

  it('lists every schema problem with its path when the cassette is invalid', async () => {
    // Prepare
    const invalid = CASSETTE_YAML.replace('stopReason: end_turn', 'stopReason: finished')
      .replace('at: "2025-05-01T12:00:00Z"', 'at: yesterday\n  by: someone')
      .replace('version: 1', 'version: 2');
    const path = await cassetteFile('invalid.yaml', invalid);

    // Act
    const error = await failureOf(() => new CassetteModel(path));

    // Assess
    expect(error.message).toMatch(new RegExp(`^cassette ${path} is invalid: `));
    expect(error.message).toContain('version: ');
    expect(error.message).toContain('recorded.at: ');
    expect(error.message).toContain('recorded: Unrecognized key: "by"');
    expect(error.message).toContain('turns.1.response.stopReason: ');
    expect(error.input).toBe(path);
  });

  it('says how many turns the cassette holds and which turn the run asked for when it runs out', async () => {
    // Prepare
    const path = await cassetteFile('run.yaml', CASSETTE_YAML);
    const model = new CassetteModel(path);
    const third = requestWith([
      userSays('a'),
      assistantSays('b'),
      userSays('c'),
      assistantSays('d'),
      userSays('e'),
    ]);

    // Act
    const error = await failureOf(() => model.converse(third));

    // Assess
    expect(error.message).toBe(`cassette ${path} holds 2 turns; the run asked for turn 3`);
    expect(error.hint).toContain('record more turns');
    expect(error.hint).toContain('--model');
  });

  it('refuses a recorded tool_use whose tool this run does not offer', async () => {
    // Prepare
    const path = await cassetteFile('run.yaml', CASSETTE_YAML);
    const model = new CassetteModel(path);
    const renamedTools = [{ ...READ_FILE, name: 'open_file' }];

    // Act
    const error = await failureOf(() => model.converse(requestWith([userSays('go')], renamedTools)));

    // Assess
    expect(error.message).toBe(
      `cassette ${path} turn 1 (phase explore) calls tool 'read_file', which this run does not offer (tools: open_file)`,
    );
    expect(error.hint).toContain('diverged from this version of the tools');
  });

  it('refuses to replay once the signal is aborted', async () => {
    // Prepare
    const model = new CassetteModel(await cassetteFile('run.yaml', CASSETTE_YAML));
    const controller = new AbortController();
    controller.abort();

    // Act
    const error = await failureOf(() =>
      model.converse(requestWith([userSays('go')]), { signal: controller.signal }),
    );

    // Assess
    expect(error.message).toContain('was cancelled');
  });
});

describe('RecordingModel', () => {
  it('records each response with its phase and saves a YAML cassette that replays the same turns', async () => {
    // Prepare
    const live = new CassetteModel(await cassetteFile('source.yaml', CASSETTE_YAML));
    const recorder = new RecordingModel(live, { note: 're-recorded' });
    const out = join(dir, 'nested', 'recorded.yaml');

    // Act
    recorder.phase = 'plan';
    const first = await recorder.converse(requestWith([userSays('go')]));
    recorder.phase = 'edit';
    const second = await recorder.converse(requestWith([userSays('go'), assistantSays('x'), userSays('y')]));
    recorder.save(out);

    // Assess
    const saved = Cassette.parse(parseYaml(await readFile(out, 'utf8')));
    expect(saved.recorded.model).toBe(live.id);
    expect(saved.recorded.note).toBe('re-recorded');
    expect(saved.turns.map((turn) => turn.phase)).toEqual(['plan', 'edit']);
    const replay = new CassetteModel(out);
    expect(replay.id).toBe(`cassette:${live.id}`);
    expect(await replay.converse(requestWith([userSays('go')]))).toEqual(first);
    expect(await replay.converse(requestWith([userSays('go'), assistantSays('x'), userSays('y')]))).toEqual(
      second,
    );
  });

  it('saves JSON for a .json path', async () => {
    // Prepare
    const live = new CassetteModel(await cassetteFile('source.yaml', CASSETTE_YAML));
    const recorder = new RecordingModel(live);
    const out = join(dir, 'recorded.json');

    // Act
    await recorder.converse(requestWith([userSays('go')]));
    recorder.save(out);

    // Assess
    const saved = Cassette.parse(JSON.parse(await readFile(out, 'utf8')));
    expect(saved.turns).toHaveLength(1);
    expect(saved.turns[0]?.response.stopReason).toBe('tool_use');
  });

  it('keeps the recording apart from a response the caller later edits', async () => {
    // Prepare
    const live = new CassetteModel(await cassetteFile('source.yaml', CASSETTE_YAML));
    const recorder = new RecordingModel(live);

    // Act
    const response: ModelResponse = await recorder.converse(requestWith([userSays('go')]));
    response.content.length = 0;

    // Assess
    expect(recorder.cassette().turns[0]?.response.content).toHaveLength(2);
  });

  it('refuses to save calls that replay could not find, such as a second conversation starting over', async () => {
    // Prepare
    const live = new CassetteModel(await cassetteFile('source.yaml', CASSETTE_YAML));
    const recorder = new RecordingModel(live);
    const out = join(dir, 'recorded.yaml');
    await recorder.converse(requestWith([userSays('plan')]));
    await recorder.converse(requestWith([userSays('a fresh conversation')]));

    // Act
    const error = await failureOf(() => recorder.save(out));

    // Assess
    expect(error.message).toBe(
      `cannot save cassette ${out}: call 2 carried 0 assistant messages, but replay would need 1 to find it`,
    );
    await expect(readFile(out, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});

const REVIEW_TURNS = `  - conversation: review
    phase: review
    response:
      model: anthropic.claude-3-5-sonnet-20240620-v1:0
      content:
        - type: text
          text: Reviewed.
      stopReason: end_turn
      usage: { inputTokens: 300, outputTokens: 40 }
`;

const reviewRequest = (messages: ModelMessage[]): ModelRequest => ({
  ...requestWith(messages, []),
  conversation: 'review',
});

describe('CassetteModel conversations', () => {
  it('counts turns within the request conversation, so a review and the agent each start at their first turn', async () => {
    // Prepare: the review turn sits between the agent's two turns in the file
    const text = CASSETTE_YAML.replace('  - phase: finish\n', `${REVIEW_TURNS}  - phase: finish\n`);
    const model = new CassetteModel(await cassetteFile('mixed.yaml', text));

    // Act
    const review = await model.converse(reviewRequest([userSays('review this diff')]));
    const agentFirst = await model.converse(requestWith([userSays('fix it')]));
    const agentSecond = await model.converse(
      requestWith([userSays('fix it'), assistantSays('reading'), userSays('file')]),
    );
    const explicitAgent = await model.converse({
      ...requestWith([userSays('fix it')]),
      conversation: 'agent',
    });

    // Assess
    expect(review.content).toEqual([{ type: 'text', text: 'Reviewed.' }]);
    expect(agentFirst.stopReason).toBe('tool_use');
    expect(agentSecond.content).toEqual([{ type: 'text', text: 'Done.' }]);
    expect(explicitAgent).toEqual(agentFirst);
  });

  it('names the conversation when the cassette holds no turns of it', async () => {
    // Prepare
    const path = await cassetteFile('agent-only.yaml', CASSETTE_YAML);
    const model = new CassetteModel(path);

    // Act
    const error = await failureOf(() => model.converse(reviewRequest([userSays('review')])));

    // Assess
    expect(error.message).toBe(
      `cassette ${path} holds no turns of conversation 'review'; the run asked for turn 1`,
    );
    expect(error.hint).toContain("record the 'review' conversation");
  });

  it('names the conversation when it runs out of that conversation’s turns', async () => {
    // Prepare
    const path = await cassetteFile('mixed.yaml', `${CASSETTE_YAML}${REVIEW_TURNS}`);
    const model = new CassetteModel(path);

    // Act
    const review = await failureOf(() =>
      model.converse(reviewRequest([userSays('a'), assistantSays('b'), userSays('c')])),
    );
    const agent = await failureOf(() =>
      model.converse(
        requestWith([userSays('a'), assistantSays('b'), userSays('c'), assistantSays('d'), userSays('e')]),
      ),
    );

    // Assess
    expect(review.message).toBe(
      `cassette ${path} holds 1 turns of conversation 'review'; the run asked for turn 2`,
    );
    expect(agent.message).toBe(
      `cassette ${path} holds 2 turns of conversation 'agent'; the run asked for turn 3`,
    );
  });

  it('RecordingModel records the conversation of each call and saves a cassette that replays both', async () => {
    // Prepare
    const live = new CassetteModel(await cassetteFile('source.yaml', `${CASSETTE_YAML}${REVIEW_TURNS}`));
    const recorder = new RecordingModel(live);
    const out = join(dir, 'recorded.yaml');

    // Act
    recorder.phase = 'explore';
    await recorder.converse(requestWith([userSays('go')]));
    recorder.phase = 'review';
    const review = await recorder.converse(reviewRequest([userSays('review')]));
    recorder.phase = 'finish';
    await recorder.converse(requestWith([userSays('go'), assistantSays('x'), userSays('y')]));
    recorder.save(out);

    // Assess
    const saved = Cassette.parse(parseYaml(await readFile(out, 'utf8')));
    expect(saved.turns.map((turn) => turn.conversation)).toEqual([undefined, 'review', undefined]);
    const replay = new CassetteModel(out);
    expect(await replay.converse(reviewRequest([userSays('review')]))).toEqual(review);
    expect(
      (await replay.converse(requestWith([userSays('go'), assistantSays('x'), userSays('y')]))).content,
    ).toEqual([{ type: 'text', text: 'Done.' }]);
  });

  it('RecordingModel refuses to save a conversation whose calls replay could not find', async () => {
    // Prepare
    const live = new CassetteModel(await cassetteFile('source.yaml', `${CASSETTE_YAML}${REVIEW_TURNS}`));
    const recorder = new RecordingModel(live);
    const out = join(dir, 'recorded.yaml');
    await recorder.converse(requestWith([userSays('go')]));
    await recorder.converse(reviewRequest([userSays('review')]));
    await recorder.converse(reviewRequest([userSays('review again from scratch')]));

    // Act
    const error = await failureOf(() => recorder.save(out));

    // Assess
    expect(error.message).toBe(
      `cannot save cassette ${out}: call 3 of conversation 'review' carried 0 assistant messages, but replay would need 1 to find it`,
    );
  });
});
