/**
 * Every Lambda function Gantry deploys: the entry file (relative to the repository root) and the
 * handler it exports. The infrastructure creates one function per entry and esbuild bundles each file
 * once; the step functions share `functions/steps.ts`.
 */
export interface FunctionEntry {
  /** The function's name within the app, e.g. `StepCheckRequest`. */
  name: string;
  /** The entry file, relative to the repository root. */
  file: string;
  /** The export the Lambda runtime calls. */
  handler: string;
  /** What invokes it. */
  trigger: 'state-machine' | 'http' | 'event-bus';
}

/**
 * The Lambda-side workflow steps of both workflows (docs/aws.md); `requestApproval` is the
 * `.waitForTaskToken` gate and `grantSandbox` issues each sandbox task's run credentials. The delivery
 * steps that wait on a pipeline (deploy, roll out, observe, redeploy, confirm recovery) get a longer
 * timeout ({@link longStepEntries}).
 */
export const stepEntries = [
  'checkRequest',
  'classifyRisk',
  'createPlan',
  'requestApproval',
  'finishRun',
  'loadStepResult',
  'grantSandbox',
  'decideMerge',
  'prepareRelease',
  'deployStaging',
  'rollOutProduction',
  'observeProduction',
  'startRollback',
  'finishRollback',
  'redeploy',
  'confirmRecovery',
  'fileFixForward',
  'escalateRollback',
] as const;
export type StepEntry = (typeof stepEntries)[number];

/** Steps that wait on a CodePipeline execution or an observation window: a Lambda's full 15 minutes. */
export const longStepEntries: readonly StepEntry[] = [
  'deployStaging',
  'rollOutProduction',
  'observeProduction',
  'redeploy',
  'confirmRecovery',
];

/** Steps that start the target's pipelines (src/adapters/aws/pipeline-deployer.ts). */
export const deployStepEntries: readonly StepEntry[] = ['deployStaging', 'rollOutProduction', 'redeploy'];

const pascal = (name: string) => name[0]?.toUpperCase() + name.slice(1);

export const functionEntries: readonly FunctionEntry[] = [
  ...stepEntries.map(
    (step): FunctionEntry => ({
      name: `Step${pascal(step)}`,
      file: 'functions/steps.ts',
      handler: step,
      trigger: 'state-machine',
    }),
  ),
  { name: 'ApprovalApi', file: 'functions/approval-api.ts', handler: 'handler', trigger: 'http' },
  { name: 'GitHubWebhook', file: 'functions/github-webhook.ts', handler: 'handler', trigger: 'http' },
  { name: 'AlarmRouter', file: 'functions/alarm-router.ts', handler: 'handler', trigger: 'event-bus' },
];

/** The distinct files esbuild bundles. */
export const functionFiles = [...new Set(functionEntries.map((entry) => entry.file))];
