export {
  compareToBaseline,
  EvalConfig,
  type FigureName,
  FigureTolerance,
  loadEvalConfig,
  loadEvalResult,
  type Regression,
} from './baseline-gate.js';
export { type CanaryLeak, type CanarySource, findCanaryLeaks } from './canaries.js';
export { EvalCase, type LoadedEvalCase, loadEvalCase } from './eval-case.js';
export {
  defaultEvalConfigFile,
  type EvalCommandOptions,
  type EvalCommandOutcome,
  runEvalCommand,
} from './eval-command.js';
export { EvalCaseOutcome, EvalFigures, EvalResult, figuresOf, percentile, taskKinds } from './eval-result.js';
export { escapeHtml, renderEvalHtml, renderEvalMarkdown, writeEvalReports } from './reports.js';
export { listCaseFiles, type RunSuiteOptions, recordedViolationIds, runSuite } from './run-suite.js';
