import type { RunJournal } from '../evidence/run-journal.js';
import type { ArtifactStore } from '../ports/artifacts.js';

/** Step outputs up to this size (JSON characters) sit in their event; larger ones are artifacts. */
const INLINE_OUTPUT_LIMIT = 4096;

/** The journal key of a state's finished step: the state name, and the loop iteration when there is one. */
export function stepKey(state: string, iteration?: unknown): string {
  return `step:${state}${typeof iteration === 'number' ? `#${iteration}` : ''}`;
}

/** Records a finished step's output, inline when small. Recording it again is a no-op. */
export async function recordStepOutput(
  journal: RunJournal,
  artifacts: ArtifactStore,
  key: string,
  state: string,
  step: string,
  output: unknown,
): Promise<void> {
  const json = JSON.stringify(output ?? null);
  const data =
    json.length <= INLINE_OUTPUT_LIMIT
      ? { step: state, value: output ?? null }
      : { step: state, output: await artifacts.put(json, 'application/json') };
  await journal.record(key, 'step.completed', { kind: 'step', id: step }, data);
}

/** The recorded output of a finished step, or `undefined` when the step has not finished. */
export async function readStepOutput(
  journal: RunJournal,
  artifacts: ArtifactStore,
  key: string,
): Promise<{ output: unknown } | undefined> {
  const done = journal.find(key, 'step.completed');
  if (!done) return undefined;
  return {
    output: done.data.output ? JSON.parse(await artifacts.getText(done.data.output)) : done.data.value,
  };
}
