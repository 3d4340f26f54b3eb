import { access, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { BedrockConverseModel } from '../../agent/models/bedrock.js';
import { loadApproverMatrix } from '../../approvals/approval-matrix.js';
import { SignedApprovalRecords } from '../../approvals/signed-approval-records.js';
import { loadServiceSpecs } from '../../deploy/service-spec.js';
import { ForgeError, InvalidInputError } from '../../domain/errors.js';
import { MergeQueue } from '../../forge/merge-queue.js';
import { SecretRedactor } from '../../gateway/redact.js';
import { policyVersionOf } from '../../local/policy-version.js';
import { loadPriceTable, type RunBudget } from '../../policy/budgets.js';
import { loadCapabilities } from '../../policy/capabilities.js';
import { CedarPolicyEngine } from '../../policy/cedar-engine.js';
import { loadRiskRules } from '../../policy/risk-rules.js';
import type { Deployer } from '../../ports/deployer.js';
import type { RecordStore } from '../../ports/event-log.js';
import type { Forge } from '../../ports/forge.js';
import type { PlatformSigner } from '../../ports/platform-signer.js';
import type { Sandbox } from '../../ports/sandbox.js';
import type { DeliveryDeps, StepDeps, StepSettings } from '../../steps/step-deps.js';
import { plainWorkspaceStorage } from '../../workspaces/disk-workspace-storage.js';
import { GitHubForge } from '../github/github-forge.js';
import { Ed25519Signer } from '../local/ed25519-signer.js';
import { DynamoEventLog } from './dynamodb-event-log.js';
import { KmsPlatformSigner } from './kms-signer.js';
import { PipelineDeployer, type PipelineService } from './pipeline-deployer.js';
import { runArtifactPrefix, S3ArtifactStore } from './s3-artifact-store.js';

const PipelineRefConfig = z.strictObject({
  name: z.string().min(1),
  sourceActionName: z.string().min(1).optional(),
  endpoint: z.string().min(1).optional(),
});

/** One service's pipelines as `GANTRY_PIPELINES` names them: the shape {@link PipelineDeployer} takes. */
export const PipelineServiceConfig = z.strictObject({
  staging: PipelineRefConfig,
  production: PipelineRefConfig,
  redeploy: PipelineRefConfig.optional(),
  alarms: z
    .array(
      z.strictObject({ name: z.string().min(1), metric: z.enum(['error-rate', 'latency-p95', 'health']) }),
    )
    .optional(),
}) satisfies z.ZodType<PipelineService>;

/**
 * The environment the infrastructure sets on every Gantry function and on the sandbox task.
 *
 * | variable | holds |
 * | --- | --- |
 * | `GANTRY_STAGE` | the stage name (`dev`, `staging`, `production`) |
 * | `GANTRY_EVENTS_TABLE` | the event log table (pk `runId`, sk `seq`) |
 * | `GANTRY_RUNS_TABLE` | the run summaries table (GSIs `byState`, `byTime`) |
 * | `GANTRY_RECORDS_TABLE` | the records table (pk `kind`, sk `id`): approvals, switches, counters |
 * | `GANTRY_ARTIFACT_BUCKET` | the artifact bucket (a run's keys are `runs/<runId>/sha256/<hex>`) |
 * | `GANTRY_MODEL_IDS` | the Bedrock model ids the stage allows, comma separated; the first is the default |
 * | `GANTRY_APPROVAL_BASE_URL` | the approval API's base URL: signed links are `<url>/approvals/<token>` |
 * | `GANTRY_SIGNING_KEY_PARAM` | an SSM SecureString parameter holding the link signing key (base64, ≥ 32 bytes), read through the AWS Parameters and Secrets Lambda Extension |
 * | `GANTRY_SIGNING_KEY` | or the key itself (base64), e.g. from a linked SST secret |
 * | `GANTRY_PLATFORM_KEY_ID` | the platform key: a KMS key (spec `ECC_NIST_EDWARDS25519`, usage `SIGN_VERIFY`) that signs approval decisions as they are recorded (kms:Sign) and verifies them at the gates (kms:GetPublicKey). Without it each process signs with a key of its own that dies with it: nothing can be forged, but a decision verifies only in the process that recorded it, so a deployed stage sets it |
 * | `GANTRY_POLICIES_DIR` | optional: the bundled `policies/` directory; default `policies/` next to the bundle |
 * | `GANTRY_WORKSPACES_DIR` | optional: where run workspaces live; default `/workspace` (the sandbox task's volume) |
 * | `GANTRY_EVIDENCE_DIR` | optional: readable copies of evidence packets; default `<tmpdir>/gantry-evidence` |
 * | `GANTRY_PIPELINES` | optional: the delivery loop's pipelines, JSON `{ "<service>": { "staging": { "name": … }, "production": { "name": … }, "redeploy"?, "alarms"? } }` ({@link PipelineService}); without it runs end at the pull request |
 * | `GANTRY_PIPELINE_TIMEOUT_SECONDS` | optional: how long a deploy step waits for its pipeline execution; default 840 (a Lambda lives 900) |
 * | `GANTRY_REQUESTS_DIR` | optional: where filed requests (fix forward) are written; default `<tmpdir>/gantry-requests`. On AWS that directory dies with the function: each filed request is also an artifact and a `filed-request` record |
 * | `GANTRY_GITHUB_OWNER` | optional: the GitHub user or organisation owning the repositories; with a token, the forge is {@link GitHubForge} |
 * | `GANTRY_GITHUB_TOKEN` / `GANTRY_GITHUB_TOKEN_PARAM` | the GitHub token, or the SSM SecureString parameter holding it (as the signing key) |
 * | `GANTRY_GITHUB_API_URL` | optional: the API root for GitHub Enterprise Server; default `https://api.github.com` |
 * | `GANTRY_ROLLBACK_MACHINE_ARN` | the rollback state machine; the alarm router starts it (functions/alarm-router.ts) |
 *
 * Functions add their own: `GANTRY_IDEMPOTENCY_TABLE` (steps), `GANTRY_BUS_NAME` and
 * `GANTRY_WEBHOOK_SECRET[_PARAM]` (GitHub webhook), `GANTRY_SANDBOX_RUN_ROLE_ARN` and
 * `GANTRY_GRANT_KEY_ARN` (the grantSandbox step); the sandbox task gets `GANTRY_GRANT_KEY_ARN` and, per
 * task, `GANTRY_RUN_GRANT`.
 */
export const AwsRuntimeEnv = z.object({
  GANTRY_STAGE: z.string().min(1),
  GANTRY_EVENTS_TABLE: z.string().min(1),
  GANTRY_RUNS_TABLE: z.string().min(1),
  GANTRY_RECORDS_TABLE: z.string().min(1),
  GANTRY_ARTIFACT_BUCKET: z.string().min(1),
  GANTRY_MODEL_IDS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string()).min(1, 'name at least one Bedrock model id')),
  GANTRY_APPROVAL_BASE_URL: z.url(),
  GANTRY_SIGNING_KEY_PARAM: z.string().min(1).optional(),
  GANTRY_SIGNING_KEY: z.string().min(1).optional(),
  GANTRY_PLATFORM_KEY_ID: z.string().min(1).optional(),
  GANTRY_POLICIES_DIR: z.string().min(1).optional(),
  GANTRY_WORKSPACES_DIR: z.string().min(1).default('/workspace'),
  GANTRY_EVIDENCE_DIR: z.string().min(1).optional(),
  GANTRY_PIPELINES: z
    .string()
    .optional()
    .transform((text, context) => {
      if (text === undefined || text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().min(1), PipelineServiceConfig).optional()),
  GANTRY_PIPELINE_TIMEOUT_SECONDS: z.coerce.number().int().positive().max(3600).default(840),
  GANTRY_REQUESTS_DIR: z.string().min(1).optional(),
  GANTRY_GITHUB_OWNER: z.string().min(1).optional(),
  GANTRY_GITHUB_API_URL: z.url().optional(),
});
export type AwsRuntimeEnv = z.infer<typeof AwsRuntimeEnv>;

/**
 * Reads and checks the runtime environment; every missing or malformed variable is named at once.
 *
 * @example
 * const config = readAwsRuntimeEnv(process.env);
 * config.GANTRY_MODEL_IDS[0]; // the default model
 */
export function readAwsRuntimeEnv(env: NodeJS.ProcessEnv = process.env): AwsRuntimeEnv {
  const parsed = AwsRuntimeEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${String(issue.path[0] ?? '(environment)')}: ${issue.message}`,
    );
    throw new InvalidInputError(`the Gantry function environment is incomplete: ${problems.join('; ')}`, {
      input: problems.map((p) => p.split(':')[0]).join(', '),
      hint: 'the infrastructure sets these variables (see src/adapters/aws/aws-runtime.ts); redeploy the stage, or set them for a local test',
    });
  }
  return parsed.data;
}

/**
 * The forge of a stage without GitHub settings: every operation fails and says why, so a deployed stage
 * stops at MapRepository with a readable reason instead of half-working.
 *
 * @example
 * await new ForgeUnavailable().ensureRepository(ref); // throws ForgeError
 */
export class ForgeUnavailable implements Forge {
  private refuse(operation: string, input?: string): never {
    throw new ForgeError(`this stage has no forge configured: ${operation} cannot run`, {
      input,
      hint: 'set GANTRY_GITHUB_OWNER and GANTRY_GITHUB_TOKEN_PARAM (docs/aws.md), or run this request with the embedded runtime (`gantry run`)',
    });
  }
  ensureRepository(ref: { name: string }): never {
    return this.refuse('ensureRepository', ref.name);
  }
  checkout(repository: string): never {
    return this.refuse('checkout', repository);
  }
  pushBranch(repository: string): never {
    return this.refuse('pushBranch', repository);
  }
  openPullRequest(input: { repository: string }): never {
    return this.refuse('openPullRequest', input.repository);
  }
  getPullRequest(repository: string): never {
    return this.refuse('getPullRequest', repository);
  }
  listPullRequests(repository: string): never {
    return this.refuse('listPullRequests', repository);
  }
  defaultHead(repository: string): never {
    return this.refuse('defaultHead', repository);
  }
  advanceDefaultBranch(repository: string): never {
    return this.refuse('advanceDefaultBranch', repository);
  }
  pushQueueCommit(repository: string): never {
    return this.refuse('pushQueueCommit', repository);
  }
  commentOnPullRequest(repository: string): never {
    return this.refuse('commentOnPullRequest', repository);
  }
  commitsBetween(repository: string): never {
    return this.refuse('commitsBetween', repository);
  }
  changedFiles(repository: string): never {
    return this.refuse('changedFiles', repository);
  }
}

/**
 * The forge the environment names: {@link GitHubForge} when `GANTRY_GITHUB_OWNER` and a token are set,
 * {@link ForgeUnavailable} otherwise. An owner without a token is a mistake, and says so.
 *
 * @example
 * const forge = await forgeFromEnvironment(process.env, readAwsRuntimeEnv(process.env));
 */
export async function forgeFromEnvironment(
  env: NodeJS.ProcessEnv,
  config: AwsRuntimeEnv,
  fetchImpl: typeof fetch = fetch,
): Promise<Forge> {
  const owner = config.GANTRY_GITHUB_OWNER;
  if (!owner) return new ForgeUnavailable();
  const token = await resolveSecret(env, 'GITHUB_TOKEN', fetchImpl);
  if (!token) {
    throw new InvalidInputError(`GANTRY_GITHUB_OWNER is ${owner} but no GitHub token is configured`, {
      input: 'GANTRY_GITHUB_TOKEN_PARAM',
      hint: 'set GANTRY_GITHUB_TOKEN_PARAM to an SSM SecureString parameter (or GANTRY_GITHUB_TOKEN) holding a token with contents and pull-request write access',
    });
  }
  return new GitHubForge({
    octokit: {
      auth: token,
      ...(config.GANTRY_GITHUB_API_URL ? { baseUrl: config.GANTRY_GITHUB_API_URL } : {}),
    },
    owner,
    workDir: join(tmpdir(), 'gantry-github'),
  });
}

/** Port of the AWS Parameters and Secrets Lambda Extension unless the environment says otherwise. */
const EXTENSION_PORT = '2773';

/**
 * Reads a secret the infrastructure provides as `GANTRY_<NAME>` (the value, e.g. a linked SST secret)
 * or `GANTRY_<NAME>_PARAM` (an SSM SecureString parameter read through the Parameters and Secrets
 * Lambda Extension, which caches it). Returns undefined when neither is set.
 *
 * @example
 * const secret = await resolveSecret(process.env, 'WEBHOOK_SECRET');
 */
export async function resolveSecret(
  env: NodeJS.ProcessEnv,
  name: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string | undefined> {
  const direct = env[`GANTRY_${name}`];
  if (direct) return direct;
  const parameter = env[`GANTRY_${name}_PARAM`];
  if (!parameter) return undefined;
  const port = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT || EXTENSION_PORT;
  const url = `http://localhost:${port}/systemsmanager/parameters/get?name=${encodeURIComponent(parameter)}&withDecryption=true`;
  const failed = (why: string, cause?: unknown) =>
    new InvalidInputError(`could not read the SSM parameter ${parameter} (GANTRY_${name}_PARAM): ${why}`, {
      input: parameter,
      hint: 'add the AWS Parameters and Secrets Lambda Extension layer to the function and allow ssm:GetParameter (and kms:Decrypt) on the parameter',
      cause,
    });
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { 'X-Aws-Parameters-Secrets-Token': env.AWS_SESSION_TOKEN ?? '' },
    });
  } catch (cause) {
    throw failed('the extension did not answer', cause);
  }
  if (!response.ok) throw failed(`the extension answered ${response.status}`);
  const body = (await response.json()) as { Parameter?: { Value?: unknown } };
  const value = body.Parameter?.Value;
  if (typeof value !== 'string' || !value) throw failed('the parameter has no value');
  return value;
}

/** The approval link signing key: base64 of at least 32 random bytes. */
async function signingKeyFrom(env: NodeJS.ProcessEnv, fetchImpl: typeof fetch): Promise<Buffer | undefined> {
  const encoded = await resolveSecret(env, 'SIGNING_KEY', fetchImpl);
  if (encoded === undefined) return undefined;
  const key = Buffer.from(encoded.trim(), 'base64');
  if (key.byteLength < 32) {
    throw new InvalidInputError(
      `the approval signing key has ${key.byteLength} bytes; it needs at least 32`,
      {
        input: env.GANTRY_SIGNING_KEY_PARAM ? 'GANTRY_SIGNING_KEY_PARAM' : 'GANTRY_SIGNING_KEY',
        hint: 'store base64 of 32 random bytes: `openssl rand -base64 32`',
      },
    );
  }
  return key;
}

/** The per-run budget of a capability nobody defined: the strictest, as in the embedded runtime. */
const fallbackBudget: RunBudget = {
  maxModelTokens: 20_000,
  maxToolCalls: 10,
  maxWallTimeSeconds: 300,
  maxCostUsd: 0.5,
};

/** The same step settings the embedded runtime uses; only the directories differ. */
const defaultSettings: Omit<StepSettings, 'workspacesDir' | 'evidenceDir'> = {
  agentVersion: 'gantry-agent/0.1.0',
  maxPatchIterations: 3,
  maxTurnsPerPhase: 24,
  sandboxLimits: { wallTimeMs: 120_000, maxOutputBytes: 1024 * 1024 },
  maxIdenticalToolCalls: 3,
  maxReflectionDepth: 2,
};

export interface AwsStepDepsOptions {
  /** The forge; default {@link forgeFromEnvironment}: GitHub when configured, else {@link ForgeUnavailable}. */
  forge?: Forge;
  /** The deployer; default a {@link PipelineDeployer} when `GANTRY_PIPELINES` names pipelines. */
  deployer?: Deployer;
  /** A CodePipeline client for the default deployer. Tests pass a local one. */
  codePipeline?: CodePipelineClient;
  /** A DynamoDB client; default a real one with the SDK's own region and credentials. Tests pass a local one. */
  dynamo?: DynamoDBClient;
  /** An S3 client; default a real one. Tests pass a local one. */
  s3?: S3Client;
  /** A KMS client for the platform key (`GANTRY_PLATFORM_KEY_ID`); default a real one. */
  kms?: KMSClient;
  /** The platform signer itself, instead of the one `GANTRY_PLATFORM_KEY_ID` names. */
  platformSigner?: PlatformSigner;
  /**
   * Whether the link signing key must be present. The sandbox task never signs links, so it passes false;
   * a missing key then makes any attempt to sign fail on the key's length.
   */
  requireSigningKey?: boolean;
  settings?: Partial<StepSettings>;
  now?: () => Date;
  fetch?: typeof fetch;
}

/**
 * The delivery ports without the merge queue: the queue runs tests, so it needs a sandbox, which only the
 * sandbox task has ({@link deliveryWith}).
 */
export type AwsDelivery = Omit<DeliveryDeps, 'mergeQueue'>;

/** What {@link createAwsStepDeps} builds: the step dependencies without a model and sandbox, plus their sources. */
export type AwsStepDeps = Omit<StepDeps, 'sandbox' | 'model' | 'delivery'> & {
  /** Present when the stage names its pipelines (`GANTRY_PIPELINES`) or a deployer was passed. */
  delivery?: AwsDelivery;
  config: AwsRuntimeEnv;
  log: DynamoEventLog;
  records: RecordStore;
  /** The store without a prefix (`sha256/<hex>`); on AWS a run's artifacts are in {@link artifactsForRun}. */
  artifacts: S3ArtifactStore;
  /** The store of one run: keys under `runs/<runId>/`, the only objects a run's credentials reach. */
  artifactsForRun: (runId: string) => S3ArtifactStore;
  policiesDir: string;
};

/**
 * The step dependencies of one run: the same adapters with the run's artifact store. Every AWS
 * component that serves a run (step functions, approval API, webhook, sandbox task) uses these.
 *
 * @example
 * const deps = forRun(await createAwsStepDeps(process.env), input.run.runId);
 * deps.artifacts.prefix; // 'runs/<runId>/'
 */
export function forRun<D extends AwsStepDeps>(deps: D, runId: string): D {
  return { ...deps, artifacts: deps.artifactsForRun(runId) };
}

/** `policies/` beside the bundle: the infrastructure copies it there when it bundles a function. */
const bundledPoliciesDir = () => join(dirname(fileURLToPath(import.meta.url)), 'policies');

/**
 * Builds the step dependencies the embedded runtime builds (`src/local/runtime.ts`), from the
 * environment the infrastructure sets, on DynamoDB, S3 and the bundled policies.
 *
 * @example
 * const deps = await createAwsStepDeps(process.env);
 * await checkRequest({ ...deps, model, sandbox }, { run });
 */
export async function createAwsStepDeps(
  env: NodeJS.ProcessEnv = process.env,
  options: AwsStepDepsOptions = {},
): Promise<AwsStepDeps> {
  const config = readAwsRuntimeEnv(env);
  const fetchImpl = options.fetch ?? fetch;
  const policies = config.GANTRY_POLICIES_DIR ?? bundledPoliciesDir();
  await access(policies).catch((cause: unknown) => {
    throw new InvalidInputError(`the policies directory ${policies} does not exist`, {
      input: policies,
      hint: 'bundle policies/ beside the function, or set GANTRY_POLICIES_DIR to where it is',
      cause,
    });
  });
  const now = options.now ?? (() => new Date());
  const log = new DynamoEventLog(
    options.dynamo ?? new DynamoDBClient({}),
    {
      events: config.GANTRY_EVENTS_TABLE,
      runs: config.GANTRY_RUNS_TABLE,
      records: config.GANTRY_RECORDS_TABLE,
    },
    now,
  );
  const s3 = options.s3 ?? new S3Client({});
  const artifacts = new S3ArtifactStore(s3, config.GANTRY_ARTIFACT_BUCKET);
  const artifactsForRun = (runId: string) =>
    new S3ArtifactStore(s3, config.GANTRY_ARTIFACT_BUCKET, { prefix: runArtifactPrefix(runId) });
  const key = await signingKeyFrom(env, fetchImpl);
  if (!key && options.requireSigningKey !== false) {
    throw new InvalidInputError('the approval link signing key is not configured', {
      input: 'GANTRY_SIGNING_KEY_PARAM',
      hint: 'set GANTRY_SIGNING_KEY_PARAM to an SSM SecureString parameter (or GANTRY_SIGNING_KEY) holding base64 of 32 random bytes',
    });
  }
  const settings: StepSettings = {
    ...defaultSettings,
    workspacesDir: config.GANTRY_WORKSPACES_DIR,
    evidenceDir: config.GANTRY_EVIDENCE_DIR ?? join(tmpdir(), 'gantry-evidence'),
    ...options.settings,
  };
  await mkdir(settings.evidenceDir, { recursive: true });
  const riskRules = await loadRiskRules(join(policies, 'risk-rules.yaml'));
  const capabilities = await loadCapabilities(join(policies, 'capabilities'));
  const delivery = await awsDelivery(config, policies, log, now, options);
  const forge = options.forge ?? (await forgeFromEnvironment(env, config, fetchImpl));
  return {
    ...(delivery ? { delivery } : {}),
    config,
    policiesDir: policies,
    log,
    records: new SignedApprovalRecords(log, platformSignerFrom(config, options)),
    artifacts,
    artifactsForRun,
    forge,
    // A Fargate task's storage is bounded by the task definition; workspaces are plain directories there.
    workspaces: plainWorkspaceStorage,
    riskRules,
    capabilities,
    policy: await CedarPolicyEngine.load(join(policies, 'cedar')),
    approvers: await loadApproverMatrix(join(policies, 'approvers.yaml')),
    approvalLinks: { key: key ?? Buffer.alloc(0), baseUrl: config.GANTRY_APPROVAL_BASE_URL },
    policyVersion: await policyVersionOf(policies, riskRules.version),
    redactor: SecretRedactor.fromEnvironment(env),
    settings,
    prices: await loadPriceTable(join(policies, 'model-prices.yaml')),
    // An unknown capability is rejected by checkRequest; until then the strictest budget applies.
    budgetFor: (id: string) => capabilities.list().find((c) => c.id === id)?.budgets ?? fallbackBudget,
    now,
  };
}

/** The platform key: the one passed, else the KMS key the stage names, else one for this process only. */
function platformSignerFrom(config: AwsRuntimeEnv, options: AwsStepDepsOptions): PlatformSigner {
  if (options.platformSigner) return options.platformSigner;
  const keyId = config.GANTRY_PLATFORM_KEY_ID;
  if (!keyId) return Ed25519Signer.ephemeral();
  return new KmsPlatformSigner({ keyId, kms: options.kms ?? new KMSClient({}) });
}

/**
 * The delivery ports on AWS: the pipeline deployer over the stage's pipelines, the bundled service specs
 * (`policies/services/`) and a scratch directory for filed requests. Undefined when nothing is
 * configured, so runs end at the pull request as before.
 */
async function awsDelivery(
  config: AwsRuntimeEnv,
  policies: string,
  records: RecordStore,
  now: () => Date,
  options: AwsStepDepsOptions,
): Promise<AwsDelivery | undefined> {
  const pipelines = config.GANTRY_PIPELINES;
  if (!options.deployer && !pipelines) return undefined;
  const services = await loadServiceSpecs(join(policies, 'services'));
  const unknown = Object.keys(pipelines ?? {}).filter((name) => !services.has(name));
  if (unknown.length > 0) {
    throw new InvalidInputError(`GANTRY_PIPELINES names services without a spec: ${unknown.join(', ')}`, {
      input: 'GANTRY_PIPELINES',
      hint: `name only services of policies/services/ (${[...services.keys()].join(', ') || 'none'}), or add their specs`,
    });
  }
  const deployer =
    options.deployer ??
    new PipelineDeployer({
      client: options.codePipeline ?? new CodePipelineClient({}),
      records,
      services: pipelines ?? {},
      timeoutMs: config.GANTRY_PIPELINE_TIMEOUT_SECONDS * 1000,
      now,
    });
  return { deployer, services, requestsDir: config.GANTRY_REQUESTS_DIR ?? join(tmpdir(), 'gantry-requests') };
}

/**
 * The complete delivery ports of one component: the AWS ones and a merge queue testing with `sandbox`
 * under `workDir`. Only the sandbox task's queue can run tests (the mergeChange step runs there); a Lambda
 * passes its no-sandbox, so a queue run there fails and says so.
 *
 * @example
 * const delivery = deliveryWith(aws, sandbox, '/workspace/.merge-queue');
 */
export function deliveryWith(aws: AwsStepDeps, sandbox: Sandbox, workDir: string): DeliveryDeps | undefined {
  if (!aws.delivery) return undefined;
  return {
    ...aws.delivery,
    mergeQueue: new MergeQueue({
      forge: aws.forge,
      records: aws.records,
      sandbox,
      workDir,
      now: aws.now,
      testLimits: aws.settings.sandboxLimits,
    }),
  };
}

/**
 * The Bedrock model a run uses: the one it recorded (`bedrock:<id>`) when the stage allows it,
 * otherwise the stage's default. A recorded model the stage does not allow is refused.
 *
 * @example
 * const model = bedrockModelFor(deps.config, 'bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0');
 */
export function bedrockModelFor(
  config: Pick<AwsRuntimeEnv, 'GANTRY_MODEL_IDS' | 'GANTRY_STAGE'>,
  recordedSpec?: string,
  options: {
    region?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  } = {},
): BedrockConverseModel {
  const allowed = config.GANTRY_MODEL_IDS;
  let modelId = allowed[0] as string;
  if (recordedSpec) {
    const [provider, ...rest] = recordedSpec.split(':');
    const id = rest.join(':');
    if (provider !== 'bedrock' || !allowed.includes(id)) {
      throw new InvalidInputError(
        `the run asks for model ${recordedSpec}, which stage ${config.GANTRY_STAGE} does not allow`,
        {
          input: recordedSpec,
          hint: `allowed: ${allowed.map((a) => `bedrock:${a}`).join(', ')}; add the model to the stage's models to use it`,
        },
      );
    }
    modelId = id;
  }
  return new BedrockConverseModel({
    modelId,
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

/** The record kind the embedded runtime uses for a run's model spec. */
export const RUN_MODEL_KIND = 'run-model';
