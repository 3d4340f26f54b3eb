export {
  type Architecture,
  AwsPrices,
  defaultAwsPricesFile,
  HOURS_PER_MONTH,
  lambdaMemoryMb,
  loadAwsPrices,
} from './aws-prices.js';
export {
  type ExecutionPath,
  type RecordedStep,
  recordedSteps,
  sandboxSteps,
  type TaskCompute,
  taskTargetOf,
  type VisitedState,
  walkExecution,
} from './execution-path.js';
export { defaultStageSettings, type IdleCost, idleMonthlyCost, type StageSettings } from './idle-cost.js';
export { priceRecordedRun } from './recorded-run.js';
export { renderCostMarkdown, renderIdleCost, renderRunCost, significant, usd } from './render.js';
export {
  artifactHashes,
  type CostLineItem,
  type PriceRunOptions,
  priceRun,
  type RunCost,
} from './run-cost.js';
