import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseRequestFile } from '../src/intake/request-file.js';
import { Gantry } from '../src/local/runtime.js';
import type { ModelPort } from '../src/ports/model.js';
import type { Sandbox } from '../src/ports/sandbox.js';
import { coveredMs, median, type Span, withTempDir } from './measure.js';

const requestFile = fileURLToPath(new URL('../examples/billing-service/request.yaml', import.meta.url));
const cassette = fileURLToPath(new URL('../examples/billing-service/cassette.yaml', import.meta.url));

/** Where one example run spent its time, in milliseconds. */
export interface RunTiming {
  wallMs: number;
  modelMs: number;
  sandboxMs: number;
  /** Wall time not covered by a model call or a sandboxed command. */
  overheadMs: number;
  modelCalls: number;
  sandboxCommands: number;
}

function timedModel(model: ModelPort, spans: Span[]): ModelPort {
  return {
    id: model.id,
    async converse(request, options) {
      const start = performance.now();
      try {
        return await model.converse(request, options);
      } finally {
        spans.push({ start, end: performance.now() });
      }
    },
  };
}

function timedSandbox(sandbox: Sandbox, spans: Span[]): Sandbox {
  return {
    kind: sandbox.kind,
    workspaceMount: sandbox.workspaceMount,
    async run(command) {
      const start = performance.now();
      try {
        return await sandbox.run(command);
      } finally {
        spans.push({ start, end: performance.now() });
      }
    },
  };
}

/**
 * Submits the billing-service example with its cassette on a fresh embedded runtime in a temp home,
 * and splits the submit's wall time into model calls, sandboxed commands, and the rest (orchestration).
 *
 * @example
 * const timing = await timeExampleRun();
 * timing.overheadMs; // e.g. 412
 */
export async function timeExampleRun(): Promise<RunTiming> {
  const raw = await readFile(requestFile, 'utf8');
  const request = await parseRequestFile(requestFile);
  const modelSpans: Span[] = [];
  const sandboxSpans: Span[] = [];
  return withTempDir('gantry-bench-home-', async (home) => {
    const gantry = await Gantry.open({
      home,
      instrument: {
        model: (model) => timedModel(model, modelSpans),
        sandbox: (sandbox) => timedSandbox(sandbox, sandboxSpans),
      },
    });
    try {
      const start = performance.now();
      const outcome = await gantry.submit(request, `cassette:${cassette}`, raw);
      const wallMs = performance.now() - start;
      if (outcome.state !== 'completed') {
        throw new Error(
          `the example run ended ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ''}, not completed: its timing would not describe a full run`,
        );
      }
      return {
        wallMs,
        modelMs: coveredMs(modelSpans),
        sandboxMs: coveredMs(sandboxSpans),
        overheadMs: wallMs - coveredMs([...modelSpans, ...sandboxSpans]),
        modelCalls: modelSpans.length,
        sandboxCommands: sandboxSpans.length,
      };
    } finally {
      await gantry.close();
    }
  });
}

/** The first (cold) run, and the medians of the warm runs after it. */
export interface OrchestrationFigures {
  cold: RunTiming;
  warm: RunTiming;
  repeats: number;
}

/**
 * One cold run (module loading, JIT, the sandbox probe), then `repeats` warm runs, each in its own home.
 *
 * @example
 * const { warm } = await measureOrchestration(3);
 */
export async function measureOrchestration(repeats: number): Promise<OrchestrationFigures> {
  const cold = await timeExampleRun();
  const runs: RunTiming[] = [];
  for (let i = 0; i < repeats; i++) runs.push(await timeExampleRun());
  const mid = (pick: (run: RunTiming) => number) => median(runs.map(pick));
  return {
    cold,
    repeats,
    warm: {
      wallMs: mid((r) => r.wallMs),
      modelMs: mid((r) => r.modelMs),
      sandboxMs: mid((r) => r.sandboxMs),
      overheadMs: mid((r) => r.overheadMs),
      modelCalls: mid((r) => r.modelCalls),
      sandboxCommands: mid((r) => r.sandboxCommands),
    },
  };
}
