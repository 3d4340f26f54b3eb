import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { RunEvent } from '../src/domain/events.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { type Gantry, openGantry } from '../src/local/runtime.js';
import { copyExample, exampleCassette, exampleRequest, runGantry, tempHome } from './support/gantry-cli.js';

type Request = Record<string, unknown> & { repository: { name: string; path?: string } };

async function writeRequest(dir: string, name: string, change: (request: Request) => void): Promise<string> {
  const request = YAML.parse(await readFile(exampleRequest, 'utf8')) as Request;
  change(request);
  const file = join(dir, name);
  await writeFile(file, YAML.stringify(request));
  return file;
}

const finalState = (events: RunEvent[]) => events.filter((e) => e.type === 'run.state').at(-1);

describe('bad input gets a clear error, a failed run with its reason, and nothing recorded is lost', () => {
  let home: { home: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    home = await tempHome('gantry-bad-input-');
  });
  afterAll(async () => {
    await home.cleanup();
  });

  it('refuses a malformed request file, naming the file and every wrong field, and records no run', async () => {
    // Prepare
    const file = join(home.home, 'malformed.yaml');
    await writeFile(file, 'title: ""\nrequester: sam\nrepository: { name: "bad name!" }\npriority: high\n');
    // Act
    const result = await runGantry([
      '--home',
      join(home.home, 'malformed-home'),
      'run',
      file,
      '--model',
      exampleCassette,
    ]);
    const runs = await runGantry(['--home', join(home.home, 'malformed-home'), 'runs', '--json']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(/title/);
    expect(result.stderr).toMatch(/repository\.name/);
    expect(result.stderr).toMatch(/priority/);
    expect(result.stderr).toMatch(/what to do: /);
    expect(JSON.parse(runs.stdout)).toEqual([]);
  });

  it('rejects a request without acceptance criteria, with its reason as an event', async () => {
    // Prepare
    const file = await writeRequest(home.home, 'ambiguous.yaml', (r) => {
      r.acceptanceCriteria = [];
      r.repository.path = join(process.cwd(), 'examples', 'billing-service');
    });
    // Act
    const result = await runGantry([
      '--home',
      join(home.home, 'ambiguous-home'),
      'run',
      file,
      '--model',
      exampleCassette,
      '--json',
    ]);
    // Assess
    expect(result.code).toBe(2);
    const outcome = JSON.parse(result.stdout) as { state: string; reason: string };
    expect(outcome.state).toBe('rejected');
    expect(outcome.reason).toMatch(/acceptance criteria/i);
  });

  describe('in a run', () => {
    let gantry: Gantry;
    let repo: string;

    beforeAll(async () => {
      gantry = await openGantry({
        home: join(home.home, 'runs-home'),
        settings: { sandboxLimits: { wallTimeMs: 4_000, maxOutputBytes: 64 * 1024 } },
      });
      repo = await copyExample(home.home);
    });
    afterAll(async () => {
      await gantry.close();
    });

    it('fails a run whose repository path does not exist, saying which path and what to do', async () => {
      // Prepare
      const request = await parseRequestFile(exampleRequest);
      request.repository = {
        ...request.repository,
        name: 'ghost-service',
        path: join(home.home, 'no-such-dir'),
      };
      // Act
      const outcome = await gantry.submit(request, exampleCassette);
      // Assess
      expect(outcome.state).toBe('failed');
      expect(outcome.reason).toContain(join(home.home, 'no-such-dir'));
      const events = await gantry.log.read(outcome.runId);
      expect(finalState(events)).toMatchObject({ data: { state: 'failed' } });
      expect(events.map((e) => e.type)).toContain('risk.classified');
    });

    it('fails a run whose cassette runs out, keeping every event recorded before', async () => {
      // Prepare: only the first three recorded turns
      const cassette = YAML.parse(await readFile(exampleCassette.slice('cassette:'.length), 'utf8')) as {
        turns: unknown[];
      };
      cassette.turns = cassette.turns.slice(0, 3);
      const short = join(home.home, 'short-cassette.yaml');
      await writeFile(short, YAML.stringify(cassette));
      // Act
      const outcome = await gantry.submit(await parseRequestFile(exampleRequest), `cassette:${short}`);
      // Assess
      expect(outcome.state).toBe('failed');
      expect(outcome.reason).toMatch(/holds 3 turns; the run asked for turn 4/);
      expect(outcome.reason).toContain(short);
      const events = await gantry.log.read(outcome.runId);
      expect(events.filter((e) => e.type === 'model.turn')).toHaveLength(3);
      expect((await gantry.replay(outcome.runId)).problems).toEqual([]);
    });

    it.each([
      ['times out', 'node --test && sleep 30', /wall-time limit/],
      ['floods its output', 'node --test && yes gantry', /output limit/],
    ])('fails a run whose test command %s, naming the command and the limit', async (_, script, limit) => {
      // Prepare: the repository's test script misbehaves after the real tests
      const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8'));
      pkg.scripts.test = script;
      await writeFile(join(repo, 'package.json'), JSON.stringify(pkg, null, 2));
      const request = await parseRequestFile(exampleRequest);
      request.repository = { ...request.repository, name: `billing-${script.length}`, path: repo };
      // Act
      const outcome = await gantry.submit(request, exampleCassette);
      // Assess
      expect(outcome.state).toBe('failed');
      expect(outcome.reason).toMatch(limit);
      expect(outcome.reason).toContain('npm test');
      const events = await gantry.log.read(outcome.runId);
      expect(finalState(events)?.data).toMatchObject({ state: 'failed' });
    });
  });

  it('reports a corrupted artifact on replay, naming its key, and exits non-zero', async () => {
    // Prepare: a completed run, then one of its artifacts altered on disk
    const dir = join(home.home, 'corrupt-home');
    const gantry = await openGantry({ home: dir });
    const outcome = await gantry.submit(await parseRequestFile(exampleRequest), exampleCassette);
    const events = await gantry.log.read(outcome.runId);
    await gantry.close();
    const plan = events.find((e) => e.type === 'plan.created');
    const hash = plan?.type === 'plan.created' ? plan.data.artifact : '';
    const objects = join(dir, 'data', 's3', 'gantry-artifacts', 'sha256');
    const file = (await readdir(objects)).find((f) => f.startsWith(hash) && f.endsWith('._S3rver_object'));
    await writeFile(join(objects, file ?? ''), '{"objective":"tampered"}');
    // Act
    const replay = await runGantry(['--home', dir, 'replay', outcome.runId]);
    // Assess
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain(`PROBLEM: artifact sha256/${hash} is corrupted`);
    expect(replay.stdout).toMatch(new RegExp(`${events.length} events replayed`));
  });
});
