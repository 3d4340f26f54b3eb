import { fileURLToPath } from 'node:url';
import { compareToBaseline, loadEvalConfig, loadEvalResult, type Regression } from './baseline-gate.js';
import type { EvalCaseOutcome, EvalResult } from './eval-result.js';
import { writeEvalReports } from './reports.js';
import { runSuite } from './run-suite.js';

export const defaultEvalConfigFile = fileURLToPath(new URL('../../evals/eval-config.yaml', import.meta.url));

export interface EvalCommandOptions {
  suiteDir: string;
  model?: string;
  concurrency?: number;
  /** Where the result and reports go; default `eval-out`. */
  outDir?: string;
  /** A `<suite>-result.json` to gate against. */
  baseline?: string;
  /** The tolerances; default `evals/eval-config.yaml`. */
  configFile?: string;
  policiesDir?: string;
  home?: string;
  /** Fail when any case fails, not only on an escape or a regression (CI runs the recorded suites so). */
  strict?: boolean;
  onCase?: (outcome: EvalCaseOutcome) => void;
}

export interface EvalCommandOutcome {
  result: EvalResult;
  files: { json: string; markdown: string; html: string };
  regressions: Regression[];
  /** 1 when a figure regressed beyond tolerance, any security case escaped, or (strict) any case failed. */
  exitCode: 0 | 1;
}

/**
 * `gantry eval <suite> [--model] [--baseline] [--json]`: runs the suite, writes the result and reports,
 * and gates against the baseline. The caller prints and exits with `exitCode`.
 *
 * @example
 * const { exitCode, files } = await runEvalCommand({ suiteDir: 'evals/security' });
 * process.exitCode = exitCode;
 */
export async function runEvalCommand(options: EvalCommandOptions): Promise<EvalCommandOutcome> {
  // Load the gate's inputs first: a typo in --baseline should not cost a whole suite run.
  const config = options.baseline
    ? await loadEvalConfig(options.configFile ?? defaultEvalConfigFile)
    : undefined;
  const baseline = options.baseline ? await loadEvalResult(options.baseline) : undefined;
  const result = await runSuite(options);
  const files = await writeEvalReports(result, options.outDir ?? 'eval-out');
  const regressions =
    baseline && config ? compareToBaseline(result, baseline, config.tolerances).regressions : [];
  const failedCase = options.strict === true && result.figures.passed < result.figures.cases;
  const exitCode = regressions.length > 0 || result.figures.escapes > 0 || failedCase ? 1 : 0;
  return { result, files, regressions, exitCode };
}
