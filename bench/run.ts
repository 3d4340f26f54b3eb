/*
 * Gantry's performance figures, measured on the embedded runtime of this machine. `npm run bench`
 * prints one line per figure, `name: value unit`, and for each target a ratio to it (below 1 meets it).
 * Every figure is the median of repeats, timed with performance.now(); each part uses fresh temp dirs.
 *
 * - orchestration overhead: the wall time of a full `Gantry.submit` of examples/billing-service with its
 *   cassette, minus the time inside model calls (`converse`) and sandboxed commands (`sandbox.run`),
 *   both timed by decorators passed through `instrument`. What is left is Gantry itself: the event log,
 *   artifacts, the workflow engine, policy, git and the forge. Target: under 1 s. Median of 3 runs,
 *   each in a fresh home, after one cold run (module loading, JIT, the sandbox probe) printed apart.
 * - sandbox start overhead: the median time to run `true` in the real sandbox (`createSandbox()`), minus
 *   the median time to spawn `true` with child_process, 50 of each after a warm-up. Target: under 10 ms
 *   added (the explicit view, the reserved uid and the workspace hand-over included).
 * - setup phase proxy overhead: what the setup phase's egress path (the sandbox forwarder and the egress
 *   proxy, src/sandbox/egress) adds to an install command, without the sandbox: the start of a command
 *   through the forwarder against a direct start, and per plain-HTTP request to a local server through
 *   forwarder and proxy against straight to it. 50 requests, median of 5 after a warm-up. Then the real
 *   thing: `npm ci --ignore-scripts` of a one-dependency lockfile in the sandbox through the proxy against
 *   the same install on the host with direct network, empty caches, median of 3 after a warm-up.
 * - verification overhead: on the example run (3 runs, medians, read from each run's own events), the
 *   baseline suite run and the integrity runs (the final tests on the base code, the repository's own
 *   tests on the patched code) against the verification's one suite run. Target: the baseline costs one
 *   suite run; the integrity runs less than one focused test run.
 * - event log append rate: events per second appending a 1,000-event run through DynamoEventLog on
 *   dynalite (conditional puts, schema checks), beside the rate of plain PutItem calls of the same
 *   items on the same engine, the ceiling the adapter works under.
 * - event log replay: the median time to read that 1,000-event run back (`log.read`) and project its
 *   summary (`projectRunSummary`). Target: under 200 ms. `replayRun`, which also checks the sequence,
 *   the trace, the stored summary and every artifact the events name, is printed beside it.
 * - gateway decision: p50 and p99 of `ToolGateway.authorize` (schema, path confinement, command rules,
 *   the contract's editable paths, Cedar; nothing recorded or run) over a mix of allowed and denied
 *   calls of a low-risk-bugfix run, on a gateway built as the agent phase builds it. Target: p99 under
 *   1 ms. The time inside Cedar is taken apart call by call, giving the gateway's own p50/p99 and
 *   Cedar's share of the whole.
 * - infra check seconds: `runInfraCheck` for the dev stage (tsc, esbuild bundles, the app under Pulumi
 *   mocks, the policy rules; `sst install` excluded), and the number of cloud resources synthesised.
 * - cedar decisions per second: `CedarPolicyEngine.decide` in a tight loop over allow and deny
 *   requests, with its p50, beside validating the same requests (`AuthorizationRequest.parse`) alone.
 * - merge queue throughput: merges per hour draining 50 queued pull requests on examples/billing-service
 *   (4 of them break the suite, so batches bisect) through `MergeQueue` in batches of 8, with the real
 *   sandbox and git, and tests run per merge. Baseline in the same run: the same pull requests from an
 *   identical forge, tested and merged one at a time; the ratio above 1 is the queue's gain.
 * - rollback mttr p50 / p95 and rollback success rate: 20 injected regressions (the example's requests
 *   whose patch passes its tests but breaks the service under traffic, alternating an error and a
 *   latency regression), each a full run through review, merge gate, merge queue, staging and the
 *   progressive rollout whose analysis aborts it, then the rollback workflow. MTTR runs from the
 *   analysis that detected it to the rollback run's recovery check under traffic. Target: p95 under
 *   60 s, success 100%. Baseline in the same run: the deployer alone redeploying the previous commit
 *   and checking recovery (the floor any rollback pays), and the ratio of the MTTR p50 to it.
 * - repository map time: `mapRepository` of a generated 2,000-file pnpm monorepo in a git work tree
 *   (packages two levels deep, a CI workflow, a README, a Python service), median of 5 after a
 *   warm-up. Baseline in the same run: `git ls-files -z --stage` on the same tree, which the map
 *   runs first; the ratio is the map's cost in units of listing the files.
 */
import '../src/runtime-polyfills.js';
import { type Figure, formatFigure } from './measure.js';

// The SDK clients here only talk to the local engines; its Node.js 20 notice is noise in the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ORCHESTRATION_TARGET_MS = 1000;
const SANDBOX_START_TARGET_MS = 10;
const REPLAY_TARGET_MS = 200;
const LOG_EVENTS = 1000;
const GATEWAY_DECISION_TARGET_US = 1000;
const GATEWAY_CALLS = 3000;
const CEDAR_DECISIONS = 10_000;
const MERGE_QUEUE_PULLS = 50;
const ROLLBACK_REGRESSIONS = 20;
const ROLLBACK_MTTR_TARGET_MS = 60_000;
const REPOSITORY_MAP_FILES = 2000;

const print = (...figures: Figure[]) => {
  for (const figure of figures) console.log(formatFigure(figure));
};

// Imported only now, so the SDK modules load after the environment above is set.
const { measureOrchestration } = await import('./orchestration.js');
const { measureSandboxStart } = await import('./sandbox-start.js');
const { measureEventLog } = await import('./event-log.js');
const { measureGatewayDecision } = await import('./gateway-decision.js');
const { measureCedarDecision } = await import('./cedar-decision.js');

const benchStart = performance.now();

const orchestration = await measureOrchestration(3);
const { warm, cold } = orchestration;
print(
  { name: 'example run wall time', value: warm.wallMs, unit: 'ms' },
  { name: 'example run model time', value: warm.modelMs, unit: 'ms' },
  { name: 'example run sandbox time', value: warm.sandboxMs, unit: 'ms' },
  { name: 'example run sandboxed commands', value: warm.sandboxCommands, unit: 'commands' },
  { name: 'orchestration overhead (cold first run)', value: cold.overheadMs, unit: 'ms' },
  { name: 'orchestration overhead', value: warm.overheadMs, unit: 'ms' },
  { name: 'orchestration overhead / target', value: warm.overheadMs / ORCHESTRATION_TARGET_MS },
);

const sandboxStart = await measureSandboxStart({ samples: 50, warmup: 5 });
print(
  { name: 'plain true start', value: sandboxStart.plainMs, unit: 'ms' },
  { name: `sandboxed true start (${sandboxStart.kind})`, value: sandboxStart.sandboxedMs, unit: 'ms' },
  { name: 'sandbox start overhead', value: sandboxStart.addedMs, unit: 'ms added' },
  { name: 'sandbox start overhead / target', value: sandboxStart.addedMs / SANDBOX_START_TARGET_MS },
);

const { measureEgressProxy, measureInstallThroughProxy } = await import('./egress-proxy.js');
const egress = await measureEgressProxy({ requests: 50, samples: 5 });
print(
  { name: 'setup phase proxy overhead (command start)', value: egress.startAddedMs, unit: 'ms added' },
  { name: 'setup phase proxy overhead per request', value: egress.perRequestAddedMs, unit: 'ms added' },
);
const install = await measureInstallThroughProxy({ samples: 3 });
if (install) {
  print(
    { name: 'setup phase install direct (npm ci, host)', value: install.directMs, unit: 'ms' },
    { name: 'setup phase install through proxy (npm ci, sandbox)', value: install.proxiedMs, unit: 'ms' },
    { name: 'setup phase proxy overhead', value: install.addedMs, unit: 'ms added' },
    { name: 'setup phase proxy overhead / direct install', value: install.proxiedMs / install.directMs },
  );
} else console.log('setup phase proxy overhead: not measured (the npm registry is not reachable from here)');
// The example's own setup phase (no lockfile: npm install, scripts off) against the same install on the host.
const exampleSetup = await measureInstallThroughProxy({
  samples: 3,
  source: new URL('../examples/billing-service', import.meta.url).pathname,
  argv: ['npm', 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
});
if (exampleSetup) {
  print(
    { name: 'setup phase time (example)', value: exampleSetup.proxiedMs, unit: 'ms' },
    { name: 'setup phase time direct npm install (example)', value: exampleSetup.directMs, unit: 'ms' },
    { name: 'setup phase time / direct', value: exampleSetup.proxiedMs / exampleSetup.directMs },
  );
}

const { measureVerificationOverhead } = await import('./verification-overhead.js');
const verification = await measureVerificationOverhead(3);
print(
  { name: 'verification overhead: baseline', value: verification.baselineMs, unit: 'ms' },
  { name: 'verification overhead: integrity runs', value: verification.integrityMs, unit: 'ms' },
  { name: 'verification overhead: one suite run', value: verification.suiteMs, unit: 'ms' },
  {
    name: 'verification overhead baseline / one suite run',
    value: verification.baselineMs / verification.suiteMs,
  },
  {
    name: 'verification overhead integrity / one suite run',
    value: verification.integrityMs / verification.suiteMs,
  },
);

const eventLog = await measureEventLog({ events: LOG_EVENTS, replays: 5 });
print(
  { name: 'event log raw PutItem rate', value: eventLog.rawPutPerSecond, unit: 'events/s' },
  { name: 'event log append rate', value: eventLog.appendPerSecond, unit: 'events/s' },
  {
    name: 'event log append rate / raw PutItem rate',
    value: eventLog.appendPerSecond / eventLog.rawPutPerSecond,
  },
  { name: `event log replay of ${LOG_EVENTS} events`, value: eventLog.replayMs, unit: 'ms' },
  { name: 'event log replay / target', value: eventLog.replayMs / REPLAY_TARGET_MS },
  {
    name: `event log replayRun of ${LOG_EVENTS} events (${eventLog.artifactsVerified} artifacts verified)`,
    value: eventLog.fullReplayMs,
    unit: 'ms',
  },
);

const gateway = await measureGatewayDecision({ calls: GATEWAY_CALLS, warmup: 500 });
print(
  { name: 'gateway decisions timed', value: gateway.calls, unit: 'calls' },
  { name: 'gateway decisions denied', value: gateway.denied, unit: 'calls' },
  { name: 'gateway decision p50', value: gateway.p50Us, unit: 'µs' },
  { name: 'gateway decision p99', value: gateway.p99Us, unit: 'µs' },
  { name: 'gateway decision p99 / target', value: gateway.p99Us / GATEWAY_DECISION_TARGET_US },
  { name: 'gateway decision without cedar p50', value: gateway.withoutCedarP50Us, unit: 'µs' },
  { name: 'gateway decision without cedar p99', value: gateway.withoutCedarP99Us, unit: 'µs' },
  { name: 'cedar share of gateway decision', value: gateway.cedarShare },
);

const cedar = await measureCedarDecision({ decisions: CEDAR_DECISIONS, warmup: 1000 });
print(
  { name: 'cedar decisions timed', value: cedar.decisions, unit: 'decisions' },
  { name: 'cedar decisions denied', value: cedar.denied, unit: 'decisions' },
  { name: 'cedar decisions per second', value: cedar.decisionsPerSecond, unit: 'decisions/s' },
  { name: 'cedar decision p50', value: cedar.decisionP50Us, unit: 'µs' },
  { name: 'cedar decision p99', value: cedar.decisionP99Us, unit: 'µs' },
  { name: 'authorization request parse rate', value: cedar.parsePerSecond, unit: 'requests/s' },
  { name: 'authorization request parse p50', value: cedar.parseP50Us, unit: 'µs' },
  { name: 'cedar decision p50 / request parse p50', value: cedar.decisionP50Us / cedar.parseP50Us },
);

const { measureRepositoryMap } = await import('./repository-map.js');
const repositoryMap = await measureRepositoryMap({ files: REPOSITORY_MAP_FILES, samples: 5 });
print(
  { name: 'repository map files', value: repositoryMap.files, unit: 'files' },
  { name: 'repository map commands found', value: repositoryMap.commands, unit: 'commands' },
  { name: 'repository map time', value: repositoryMap.mapMs, unit: 'ms' },
  { name: 'git ls-files time (baseline)', value: repositoryMap.gitLsFilesMs, unit: 'ms' },
  {
    name: 'repository map time / git ls-files baseline',
    value: repositoryMap.mapMs / repositoryMap.gitLsFilesMs,
  },
);

const { measureInfraCheck } = await import('./infra.js');
const infra = await measureInfraCheck('dev');
print(
  { name: 'infra check seconds', value: infra.seconds, unit: 's' },
  { name: 'infra resources synthesised', value: infra.resources, unit: 'resources' },
);

const { measureMergeQueue } = await import('./merge-queue.js');
const mergeQueue = await measureMergeQueue({ pullRequests: MERGE_QUEUE_PULLS, breaking: 4, maxBatch: 8 });
print(
  { name: 'merge queue pull requests queued', value: mergeQueue.pullRequests, unit: 'PRs' },
  { name: 'merge queue throughput', value: mergeQueue.queue.mergesPerHour, unit: 'merges/h' },
  { name: 'merge queue tests run per merge', value: mergeQueue.queue.testsPerMerge, unit: 'runs/merge' },
  { name: 'merge queue batches', value: mergeQueue.queue.batches, unit: 'batches' },
  { name: 'merge queue batches bisected', value: mergeQueue.queue.bisectedBatches, unit: 'batches' },
  { name: 'merge queue merged', value: mergeQueue.queue.merged, unit: 'PRs' },
  { name: 'merge queue ejected', value: mergeQueue.queue.ejected, unit: 'PRs' },
  { name: 'merge queue drain time', value: mergeQueue.queue.seconds, unit: 's' },
  { name: 'serial merge throughput (baseline)', value: mergeQueue.serial.mergesPerHour, unit: 'merges/h' },
  {
    name: 'serial tests run per merge (baseline)',
    value: mergeQueue.serial.testsPerMerge,
    unit: 'runs/merge',
  },
  { name: 'serial drain time (baseline)', value: mergeQueue.serial.seconds, unit: 's' },
  {
    name: 'merge queue throughput / serial baseline',
    value: mergeQueue.queue.mergesPerHour / mergeQueue.serial.mergesPerHour,
  },
);

const { measureRollback } = await import('./rollback.js');
const rollback = await measureRollback({ count: ROLLBACK_REGRESSIONS });
print(
  { name: 'rollback regressions injected', value: rollback.samples.length, unit: 'regressions' },
  {
    name: 'rollback detection p50 (deploy start to abort)',
    value: rollback.detectionP50Ms / 1000,
    unit: 's',
  },
  { name: 'rollback mttr p50', value: rollback.mttrP50Ms / 1000, unit: 's' },
  { name: 'rollback mttr p95', value: rollback.mttrP95Ms / 1000, unit: 's' },
  { name: 'rollback mttr p95 / target', value: rollback.mttrP95Ms / ROLLBACK_MTTR_TARGET_MS },
  { name: 'rollback success rate', value: rollback.successRate * 100, unit: '%' },
  {
    name: 'redeploy and recovery check alone p50 (baseline)',
    value: rollback.redeployFloorP50Ms / 1000,
    unit: 's',
  },
  { name: 'rollback mttr p50 / redeploy baseline', value: rollback.mttrP50Ms / rollback.redeployFloorP50Ms },
);

print({ name: 'bench duration', value: (performance.now() - benchStart) / 1000, unit: 's' });
