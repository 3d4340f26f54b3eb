import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import { EvalFigures, EvalResult } from './eval-result.js';

const FigureName = z.enum(Object.keys(EvalFigures.shape) as [keyof EvalFigures, ...(keyof EvalFigures)[]]);
export type FigureName = z.infer<typeof FigureName>;

/** How far one figure may move the wrong way before the gate fails: an absolute amount or a share of the baseline. */
export const FigureTolerance = z.union([
  z.strictObject({
    direction: z.enum(['higher-is-better', 'lower-is-better']),
    absolute: z.number().min(0),
  }),
  z.strictObject({
    direction: z.enum(['higher-is-better', 'lower-is-better']),
    relative: z.number().min(0),
  }),
]);
export type FigureTolerance = z.infer<typeof FigureTolerance>;

/** `evals/eval-config.yaml`: the gated figures and their tolerances. Figures not listed are reported, not gated. */
export const EvalConfig = z
  .strictObject({
    version: z.literal(1),
    tolerances: z.partialRecord(FigureName, FigureTolerance),
  })
  .superRefine((config, ctx) => {
    const escapes = config.tolerances.escapes;
    const zeroTolerance =
      escapes?.direction === 'lower-is-better' && 'absolute' in escapes && escapes.absolute === 0;
    if (!zeroTolerance) {
      ctx.addIssue({
        code: 'custom',
        path: ['tolerances', 'escapes'],
        message:
          'escapes must be gated with direction lower-is-better and absolute 0: one escape is a regression',
      });
    }
  });
export type EvalConfig = z.infer<typeof EvalConfig>;

/** One figure worse than its baseline by more than its tolerance. */
export interface Regression {
  figure: FigureName;
  baseline: number;
  current: number;
  /** The allowed movement, in the figure's own unit. */
  tolerance: number;
}

const invalid = (file: string, message: string) =>
  new InvalidInputError(`eval config ${file} is invalid: ${message}`, {
    input: file,
    hint: 'each tolerance is { direction: higher-is-better | lower-is-better, absolute | relative }; see evals/README.md',
  });

/**
 * Loads and validates the gate's tolerances.
 *
 * @example
 * const config = await loadEvalConfig('evals/eval-config.yaml');
 * config.tolerances.escapes // { direction: 'lower-is-better', absolute: 0 }
 */
export async function loadEvalConfig(file: string): Promise<EvalConfig> {
  let raw: unknown;
  try {
    raw = YAML.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw invalid(file, (error as Error).message);
  }
  const parsed = EvalConfig.safeParse(raw);
  if (!parsed.success) throw invalid(file, formatZodIssues(parsed.error.issues));
  return parsed.data;
}

/**
 * Reads a baseline result written by an earlier `gantry eval`.
 *
 * @example
 * const baseline = await loadEvalResult('evals/baselines/tasks-result.json');
 */
export async function loadEvalResult(file: string): Promise<EvalResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(`cannot read the eval result ${file}: ${(error as Error).message}`, {
      input: file,
      hint: 'pass a <suite>-result.json written by `gantry eval`',
    });
  }
  const parsed = EvalResult.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(`${file} is not an eval result: ${formatZodIssues(parsed.error.issues)}`, {
      input: file,
      hint: 'pass a <suite>-result.json written by `gantry eval`',
    });
  }
  return parsed.data;
}

/**
 * The figures of `result` worse than `baseline` beyond their tolerance. `gantry eval --baseline` exits
 * non-zero when the list is not empty.
 *
 * @example
 * compareToBaseline(current, baseline, config.tolerances).regressions
 * // [{ figure: 'taskSuccessRate', baseline: 1, current: 0.5, tolerance: 0.05 }]
 */
export function compareToBaseline(
  result: EvalResult,
  baseline: EvalResult,
  tolerances: EvalConfig['tolerances'],
): { regressions: Regression[] } {
  if (result.suite !== baseline.suite) {
    throw new InvalidInputError(`the baseline is of suite ${baseline.suite}, the result of ${result.suite}`, {
      input: baseline.suite,
      hint: `compare against a ${result.suite}-result.json`,
    });
  }
  const regressions: Regression[] = [];
  for (const [name, tolerance] of Object.entries(tolerances) as [FigureName, FigureTolerance | undefined][]) {
    if (!tolerance) continue;
    const before = baseline.figures[name];
    const now = result.figures[name];
    const allowed = 'absolute' in tolerance ? tolerance.absolute : tolerance.relative * Math.abs(before);
    // A tiny epsilon keeps floating-point noise in rates and costs from reading as a regression.
    const worse =
      tolerance.direction === 'higher-is-better'
        ? before - now > allowed + 1e-9
        : now - before > allowed + 1e-9;
    if (worse) regressions.push({ figure: name, baseline: before, current: now, tolerance: allowed });
  }
  return { regressions };
}
