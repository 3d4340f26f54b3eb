import type { RunEvent } from '../domain/events.js';
import { projectRunSummary } from '../evidence/run-projection.js';
import { costOf, type PriceTable } from '../policy/budgets.js';
import type { StateMachineDefinition } from '../workflows/asl.js';
import { type AwsPrices, lambdaMemoryMb } from './aws-prices.js';
import { type VisitedState, walkExecution, workflowDefinitionFor } from './execution-path.js';

/** One priced quantity: `cost` is `quantity × unitPrice` in USD; `basis` says how the quantity was found. */
export interface CostLineItem {
  item: string;
  quantity: number;
  unit: string;
  unitPrice: number;
  cost: number;
  basis: string;
}

/** What a recorded run would have cost on AWS, item by item. */
export interface RunCost {
  runId: string;
  region: string;
  currency: 'USD';
  /** The AWS price table's version, and the model price table's. */
  pricesVersion: string;
  modelPricesVersion: string;
  items: CostLineItem[];
  total: number;
  /** The states the execution entered, in order: one state transition each. */
  statePath: string[];
  /** Where a figure is an approximation the log could not settle. */
  notes: string[];
}

/** Assumptions about the deployment that the log cannot tell; each default is explained in docs/cost.md. */
export interface PriceRunOptions {
  /** The workflow the run followed; default the issue resolver. */
  definition?: StateMachineDefinition;
  /** Seconds a sandbox task is billed before its step starts (image download, start-up); default 20. */
  fargateStartupSeconds?: number;
  /** Duration of a Lambda the log does not journal (loadStepResult, grantSandbox, the approval API); default 100 ms. */
  unjournaledLambdaMs?: number;
  /** Global secondary indexes on the runs table, each written with every summary; default 2. */
  runSummaryIndexes?: number;
  /** Log bytes per state transition (execution history at level ALL, with data); default 2048. */
  logBytesPerStateTransition?: number;
  /** Log bytes per Lambda invocation or sandbox task (platform lines, structured logs); default 1024. */
  logBytesPerInvocation?: number;
  /** How long the log groups keep a run's logs; default 30 days. */
  logRetentionDays?: number;
  /** Bytes on the wire per model token through the Bedrock endpoint; default 4. */
  bytesPerModelToken?: number;
  /** Size of each artifact by hash, when known: adds a month of S3 storage for them. */
  artifactBytes?: Readonly<Record<string, number>>;
}

const KB = 1024;
const GB = 1024 ** 3;
const SECONDS_PER_HOUR = 3600;
const DAYS_PER_MONTH = 30;

/**
 * Prices a recorded run as if it had run on AWS with the deployment of docs/aws.md: Step Functions
 * transitions along the path the run took, Lambda and Fargate time per step from the log's timestamps,
 * DynamoDB and S3 requests from its events, and model tokens with the budget guard's own price table.
 *
 * @example
 * const cost = priceRun(await gantry.log.read(runId), await loadAwsPrices(), await loadPriceTable(file));
 * console.log(renderRunCost(cost));
 */
export function priceRun(
  events: readonly RunEvent[],
  prices: AwsPrices,
  modelPrices: PriceTable,
  options: PriceRunOptions = {},
): RunCost {
  const settings = {
    fargateStartupSeconds: 20,
    unjournaledLambdaMs: 100,
    runSummaryIndexes: 2,
    logBytesPerStateTransition: 2048,
    logBytesPerInvocation: 1024,
    logRetentionDays: 30,
    bytesPerModelToken: 4,
    ...options,
  };
  const path = walkExecution(settings.definition ?? workflowDefinitionFor(events), events);
  const sizes = new Map(events.map((e) => [e.seq, eventBytes(e)] as const));
  const tasks = path.states.flatMap((s) => (s.task ? [{ ...s, task: s.task }] : []));
  let lastRecordSeq = events[0]?.seq ?? 0;
  const invocations = tasks.map((state) => {
    const timed = timeTask(state, events, settings.unjournaledLambdaMs, lastRecordSeq);
    lastRecordSeq = state.recorded?.event.seq ?? lastRecordSeq;
    return timed;
  });
  const items: CostLineItem[] = [];
  const add = (item: Omit<CostLineItem, 'cost'> & { cost?: number }) =>
    items.push({ ...item, cost: item.cost ?? item.quantity * item.unitPrice });

  add({
    item: 'Step Functions state transitions',
    quantity: path.states.length,
    unit: 'transition',
    unitPrice: per(prices.stepFunctions.perThousandStateTransitions, 1000),
    basis:
      'each state the execution entered (Task, Choice, Pass, terminal), walking the definition along the recorded steps',
  });

  const approvalAnswers = events.filter(
    (e) => e.type === 'approval.decided' && e.data.via !== 'expiry',
  ).length;
  const lambdas = invocations.filter((i) => i.compute !== 'fargate');
  const arch = prices.lambda.architecture;
  const lambdaGbSeconds =
    lambdas.reduce((sum, i) => sum + (lambdaMemoryMb(prices, i.step) / KB) * (billedMs(i.ms) / 1000), 0) +
    approvalAnswers *
      (lambdaMemoryMb(prices, 'approvalApi') / KB) *
      (billedMs(settings.unjournaledLambdaMs) / 1000);
  add({
    item: 'Lambda requests',
    quantity: lambdas.length + approvalAnswers,
    unit: 'request',
    unitPrice: per(prices.lambda.perMillionRequests, 1e6),
    basis: 'one per Lambda Task state entered, plus one approval API call per answered gate',
  });
  add({
    item: `Lambda duration (${arch})`,
    quantity: lambdaGbSeconds,
    unit: 'GB-second',
    unitPrice: prices.lambda.perGbSecond[arch],
    basis: `memory per step × time from the previous step's end to the step's record (a gate until it waits), rounded up to 1 ms; ${settings.unjournaledLambdaMs} ms for steps the log does not journal`,
  });

  const sandbox = invocations.filter((i) => i.compute === 'fargate');
  const task = prices.fargate.sandboxTask;
  const fargateSeconds = sandbox.map((i) =>
    Math.max(prices.fargate.minimumBilledSeconds, Math.ceil(settings.fargateStartupSeconds + i.ms / 1000)),
  );
  const taskSeconds = fargateSeconds.reduce((a, b) => a + b, 0);
  const fargateArch = prices.fargate.architecture;
  const fargateBasis = `${sandbox.length} sandbox tasks (${task.vcpu} vCPU, ${task.memoryGb} GB), each billed from ${settings.fargateStartupSeconds} s of start-up before its step to its record, rounded up to the second, at least ${prices.fargate.minimumBilledSeconds} s`;
  add({
    item: `Fargate vCPU (${fargateArch})`,
    quantity: task.vcpu * taskSeconds,
    unit: 'vCPU-second',
    unitPrice: per(prices.fargate.perVcpuHour[fargateArch], SECONDS_PER_HOUR),
    basis: fargateBasis,
  });
  add({
    item: `Fargate memory (${fargateArch})`,
    quantity: task.memoryGb * taskSeconds,
    unit: 'GB-second',
    unitPrice: per(prices.fargate.perGbHour[fargateArch], SECONDS_PER_HOUR),
    basis: fargateBasis,
  });

  const wru = per(prices.dynamodb.perMillionWriteRequestUnits, 1e6);
  const rru = per(prices.dynamodb.perMillionReadRequestUnits, 1e6);
  add({
    item: 'DynamoDB writes: event log',
    quantity: [...sizes.values()].reduce((sum, bytes) => sum + Math.ceil(bytes / KB), 0),
    unit: 'WRU',
    unitPrice: wru,
    basis: `${events.length} event appends, each ⌈item size / 1 KB⌉ (item size taken as the event's JSON size)`,
  });
  const summary = projectRunSummary(events);
  const summaryWrites = events.filter((e) => e.type === 'run.state' && e.data.state !== 'received').length;
  const summaryUnits = summary ? Math.ceil(eventBytes(summary) / KB) : 1;
  add({
    item: 'DynamoDB writes: run summaries',
    quantity: summaryWrites * summaryUnits * (1 + settings.runSummaryIndexes),
    unit: 'WRU',
    unitPrice: wru,
    basis: `${summaryWrites} summary puts (one after each run state change but the first), ${summaryUnits} WRU each, on the table and its ${settings.runSummaryIndexes} indexes`,
  });
  add({
    item: 'DynamoDB writes: records',
    quantity: recordWrites(events),
    unit: 'WRU',
    unitPrice: wru,
    basis:
      "the run's model spec, the daily-cap marker and counter, each approval saved and decided, each signed-link nonce",
  });
  add({
    item: 'DynamoDB writes: step idempotency',
    // grantSandbox has no idempotency: its output (a credentials grant) is never stored.
    quantity: 2 * lambdas.filter((i) => i.step !== 'grantSandbox').length,
    unit: 'WRU',
    unitPrice: wru,
    basis:
      'Powertools idempotency around each Lambda step but grantSandbox: the in-progress record, then the completed one',
  });
  const logReads = invocations.reduce(
    (sum, i) => sum + (i.journaled ? 2 : 1) * Math.max(1, Math.ceil(bytesUpTo(sizes, i.startSeq) / (4 * KB))),
    0,
  );
  add({
    item: 'DynamoDB reads: event log',
    quantity: logReads,
    unit: 'RRU',
    unitPrice: rru,
    basis:
      "each step opens the run's log (a consistent query, ⌈log size so far / 4 KB⌉ RRU), a step that appends reads the tail once more",
  });
  const guardedSteps = invocations.filter((i) => i.journaled && i.step !== 'finishRun').length;
  const modelTurns = events.filter((e) => e.type === 'model.turn');
  const approvalEvents = events.filter(
    (e) => e.type === 'approval.requested' || e.type === 'approval.decided',
  );
  add({
    item: 'DynamoDB reads: guards and approvals',
    quantity: 0.5 * (guardedSteps + modelTurns.length) + approvalEvents.length,
    unit: 'RRU',
    unitPrice: rru,
    basis:
      'a kill-switch query (eventually consistent, 0.5 RRU) before each step but finishRun and each model turn; one approval read per approval event',
  });

  const artifacts = artifactHashes(events);
  add({
    item: 'S3 PUT requests',
    quantity: artifacts.size,
    unit: 'request',
    unitPrice: per(prices.s3.perThousandPutRequests, 1000),
    basis: 'one per distinct artifact hash the events refer to',
  });
  add({
    item: 'S3 GET requests',
    quantity: artifacts.size,
    unit: 'request',
    unitPrice: per(prices.s3.perThousandGetRequests, 1000),
    basis:
      'each artifact read once: by the step that consumes it, or by `gantry replay`, which fetches every one',
  });
  if (settings.artifactBytes) {
    const bytes = [...artifacts].reduce((sum, hash) => sum + (settings.artifactBytes?.[hash] ?? 0), 0);
    add({
      item: 'S3 storage, first month',
      quantity: bytes / GB,
      unit: 'GB-month',
      unitPrice: prices.s3.storagePerGbMonth,
      basis: "the run's artifacts by their stored size, kept a month",
    });
  }

  const logBytes =
    path.states.length * settings.logBytesPerStateTransition +
    (invocations.length + approvalAnswers) * settings.logBytesPerInvocation;
  add({
    item: 'CloudWatch Logs ingestion',
    quantity: logBytes / GB,
    unit: 'GB',
    unitPrice: prices.cloudwatch.logsIngestionPerGb,
    basis: `estimate: ${settings.logBytesPerStateTransition} B per state transition (execution history) and ${settings.logBytesPerInvocation} B per Lambda invocation or sandbox task`,
  });
  add({
    item: 'CloudWatch Logs storage',
    quantity: (logBytes / GB) * (settings.logRetentionDays / DAYS_PER_MONTH),
    unit: 'GB-month',
    unitPrice: prices.cloudwatch.logsStoragePerGbMonth,
    basis: `the ingested logs, kept ${settings.logRetentionDays} days`,
  });
  const modelTokens = modelTurns.reduce(
    (sum, e) => sum + (e.type === 'model.turn' ? e.data.inputTokens + e.data.outputTokens : 0),
    0,
  );
  add({
    item: 'VPC interface endpoint data processed',
    quantity:
      (modelTokens * settings.bytesPerModelToken + sandbox.length * settings.logBytesPerInvocation) / GB,
    unit: 'GB',
    unitPrice: prices.vpcEndpoints.interfacePerGbProcessed,
    basis: `the sandbox's model traffic (${settings.bytesPerModelToken} B per token) and logs; S3 and DynamoDB use the free gateway endpoints`,
  });
  add({
    item: 'EventBridge events',
    quantity: 1,
    unit: 'event',
    unitPrice: per(prices.eventBridge.perMillionEvents, 1e6),
    basis: '`Engineering Request Submitted`, which starts the execution',
  });
  add({
    item: 'X-Ray traces',
    quantity: 1,
    unit: 'trace',
    unitPrice: per(prices.xray.perMillionTracesRecorded, 1e6),
    basis: 'one trace per execution; the steps add segments to it',
  });

  for (const model of new Set(modelTurns.map((e) => (e.type === 'model.turn' ? e.data.model : '')))) {
    const turns = modelTurns.filter((e) => e.type === 'model.turn' && e.data.model === model);
    const input = turns.reduce((sum, e) => sum + (e.type === 'model.turn' ? e.data.inputTokens : 0), 0);
    const output = turns.reduce((sum, e) => sum + (e.type === 'model.turn' ? e.data.outputTokens : 0), 0);
    const basis = `${turns.length} model turns, priced by policies/model-prices.yaml ${modelPrices.version}`;
    add({
      item: `Model input tokens (${model})`,
      quantity: input,
      unit: 'token',
      unitPrice: costOf(modelPrices, model, 1, 0),
      cost: costOf(modelPrices, model, input, 0),
      basis,
    });
    add({
      item: `Model output tokens (${model})`,
      quantity: output,
      unit: 'token',
      unitPrice: costOf(modelPrices, model, 0, 1),
      cost: costOf(modelPrices, model, 0, output),
      basis,
    });
  }

  return {
    runId: events[0]?.runId ?? '',
    region: prices.region,
    currency: 'USD',
    pricesVersion: prices.version,
    modelPricesVersion: modelPrices.version,
    items,
    total: items.reduce((sum, i) => sum + i.cost, 0),
    statePath: path.states.map((s) => s.state),
    notes: path.notes,
  };
}

interface TimedInvocation {
  step: string;
  compute: 'lambda' | 'token' | 'fargate';
  ms: number;
  /** Whether the step appended to the log (it has a record); loadStepResult only reads. */
  journaled: boolean;
  /** The last event before the step began: the log it reads has this many events. */
  startSeq: number;
}

/**
 * How long a Task's step ran: from the previous step's record (the run's first event for the first step)
 * to its own. A gate's Lambda ends when the run starts waiting; the wait itself is free on Step Functions.
 * A step never ran longer than its state's timeout: a longer gap in the log is a pause of the local
 * process (a crash before a resume), not time AWS would bill.
 */
function timeTask(
  state: VisitedState & { task: NonNullable<VisitedState['task']> },
  events: readonly RunEvent[],
  unjournaledMs: number,
  lastRecordSeq: number,
): TimedInvocation {
  const { step, compute, timeoutSeconds } = state.task;
  const record = state.recorded?.event;
  if (!record) return { step, compute, ms: unjournaledMs, journaled: false, startSeq: lastRecordSeq };
  const previous =
    events.filter((e) => e.type === 'step.completed' && e.seq < record.seq).at(-1) ?? events[0];
  const startSeq = previous?.seq ?? record.seq;
  let end = record;
  if (compute === 'token') {
    const waiting = events.find(
      (e) =>
        e.seq > startSeq &&
        e.seq < record.seq &&
        e.type === 'run.state' &&
        e.data.state === 'waiting_for_approval',
    );
    if (waiting) end = waiting as typeof record;
  }
  let ms = Math.max(0, Date.parse(end.at) - Date.parse(previous?.at ?? end.at));
  if (timeoutSeconds !== undefined) ms = Math.min(ms, timeoutSeconds * 1000);
  return { step, compute, ms, journaled: true, startSeq };
}

/** The price of one unit from a price per `units`, without binary floating-point noise (0.2 / 1e6 = 2e-7). */
function per(price: number, units: number): number {
  return Number((price / units).toPrecision(12));
}

/** Lambda bills duration in 1 ms steps, and at least 1 ms. */
function billedMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

/** Item size as JSON: DynamoDB counts attribute names and values, which JSON's size tracks closely. */
function eventBytes(item: unknown): number {
  return Buffer.byteLength(JSON.stringify(item), 'utf8');
}

function bytesUpTo(sizes: ReadonlyMap<number, number>, seq: number): number {
  let bytes = 0;
  for (const [s, size] of sizes) if (s <= seq) bytes += size;
  return bytes;
}

/**
 * Writes to the records table a run makes: its model spec at intake; the daily-cap marker and counter
 * once the request passed its ambiguity and contract checks; each approval when saved and when decided,
 * and the nonce of a signed link that decided it.
 */
function recordWrites(events: readonly RunEvent[]): number {
  const rejected = events.some((e) => e.type === 'request.rejected');
  const capped = events.some((e) => e.type === 'guard.tripped' && e.data.guard === 'daily-cap');
  let writes = 1 + (rejected && !capped ? 0 : 2);
  for (const event of events) {
    if (event.type === 'approval.requested') writes += 1;
    if (event.type === 'approval.decided') writes += event.data.via === 'link' ? 2 : 1;
  }
  return writes;
}

/** Artifact hashes the events refer to. `argsHash` identifies tool arguments; it is not stored. */
export function artifactHashes(events: readonly RunEvent[]): Set<string> {
  const hashes = new Set<string>();
  const visit = (value: unknown, key?: string) => {
    if (typeof value === 'string') {
      if (key !== 'argsHash' && /^[a-f0-9]{64}$/.test(value)) hashes.add(value);
    } else if (Array.isArray(value)) for (const v of value) visit(v);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  for (const event of events) visit(event.data);
  return hashes;
}
