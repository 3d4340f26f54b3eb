import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import { AuthorizationRequest } from '../domain/policy.js';
import type { CedarPolicyEngine } from './cedar-engine.js';
import { parsePolicyDocument } from './policy-document.js';

/** The decision table shipped beside the Cedar policies. */
export const defaultPolicyTablePath = fileURLToPath(
  new URL('../../policies/cedar/tests.yaml', import.meta.url),
);

const PlainObject = z.record(z.string(), z.unknown());

/**
 * The parts of an authorization request every case shares. Its own keys are checked here; keys
 * nested deeper are checked when each merged request is validated, so a typo still fails.
 */
const RequestDefaults = z.strictObject({
  principal: PlainObject.optional(),
  action: z.string().min(1).optional(),
  resource: PlainObject.optional(),
  context: PlainObject.optional(),
});

export const PolicyTableCase = z.strictObject({
  name: z.string().min(1),
  /** Merged over `defaults`: objects key by key, anything else (arrays too) replaced. */
  request: RequestDefaults,
  expect: z.enum(['allow', 'deny']),
  /** When given, the decision's determining policies must be exactly these ids, in any order. */
  determinedBy: z.array(z.string().min(1)).optional(),
});
export type PolicyTableCase = z.infer<typeof PolicyTableCase>;

export const PolicyTable = z
  .strictObject({
    defaults: RequestDefaults.default({}),
    cases: z.array(PolicyTableCase).min(1),
  })
  .superRefine((table, context) => {
    const seen = new Set<string>();
    table.cases.forEach((testCase, index) => {
      if (seen.has(testCase.name)) {
        context.addIssue({
          code: 'custom',
          path: ['cases', index, 'name'],
          message: `duplicate case name "${testCase.name}"`,
        });
      }
      seen.add(testCase.name);
    });
  });
export type PolicyTable = z.infer<typeof PolicyTable>;

/** One case after merging defaults, ready for the engine. */
export interface ResolvedPolicyTableCase {
  name: string;
  request: AuthorizationRequest;
  expect: 'allow' | 'deny';
  determinedBy: string[] | undefined;
}

export interface PolicyTableCaseResult {
  name: string;
  expected: 'allow' | 'deny';
  actual: 'allow' | 'deny';
  determiningPolicies: string[];
  /** The `determinedBy` the case expects, when it names one. */
  expectedDeterminedBy: string[] | undefined;
  reasons: string[];
  passed: boolean;
}

export interface PolicyTableResult {
  file: string;
  policyVersion: string;
  cases: PolicyTableCaseResult[];
  passed: number;
  failed: number;
  /** Policies that determined no case's decision: the table does not exercise them. */
  uncoveredPolicies: string[];
}

const tableHint =
  'Fix the decision table (policies/cedar/tests.yaml shows the shape: defaults, then cases with name, request, expect, determinedBy), then run `gantry policy test` again.';

/**
 * Runs every case of a decision table through the engine and compares each decision, and its
 * determining policies when the case names them, with what the case expects.
 *
 * @example
 * const engine = await CedarPolicyEngine.load();
 * const result = await runPolicyTable(engine); // policies/cedar/tests.yaml
 * result.failed; // 0
 */
export async function runPolicyTable(
  engine: CedarPolicyEngine,
  file: string = defaultPolicyTablePath,
): Promise<PolicyTableResult> {
  const cases = await loadPolicyTable(file);
  const determined = new Set<string>();
  const results = cases.map((testCase): PolicyTableCaseResult => {
    const decision = engine.decide(testCase.request);
    for (const id of decision.determiningPolicies) determined.add(id);
    const sameDeterminers =
      testCase.determinedBy === undefined || sameMembers(testCase.determinedBy, decision.determiningPolicies);
    return {
      name: testCase.name,
      expected: testCase.expect,
      actual: decision.decision,
      determiningPolicies: decision.determiningPolicies,
      expectedDeterminedBy: testCase.determinedBy,
      reasons: decision.reasons,
      passed: decision.decision === testCase.expect && sameDeterminers,
    };
  });
  const passed = results.filter((result) => result.passed).length;
  return {
    file,
    policyVersion: engine.version,
    cases: results,
    passed,
    failed: results.length - passed,
    uncoveredPolicies: engine.policies.map((policy) => policy.id).filter((id) => !determined.has(id)),
  };
}

/**
 * Reads a decision table and resolves every case against its defaults; a case whose merged
 * request is not a valid AuthorizationRequest is an error naming the file and the case.
 *
 * @example
 * const cases = await loadPolicyTable('policies/cedar/tests.yaml');
 * cases[0]?.request.context.autonomyTier; // 0
 */
export async function loadPolicyTable(
  file: string = defaultPolicyTablePath,
): Promise<ResolvedPolicyTableCase[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError(
      `Cannot read the policy decision table ${file}: ${(cause as Error).message}`,
      {
        input: file,
        hint: tableHint,
        cause,
      },
    );
  }
  return parsePolicyTable(text, file);
}

/**
 * Parses the text of a decision table; `origin` names it in errors.
 *
 * @example
 * const cases = parsePolicyTable('cases: [...]', 'inline');
 */
export function parsePolicyTable(text: string, origin: string): ResolvedPolicyTableCase[] {
  const table = parsePolicyDocument(text, origin, PolicyTable, {
    label: 'Policy decision table',
    hint: tableHint,
  });
  return table.cases.map((testCase, index) => {
    const request = AuthorizationRequest.safeParse(mergeDefaults(table.defaults, testCase.request));
    if (!request.success) {
      throw new InvalidInputError(
        `Policy decision table ${origin}, case ${index + 1} "${testCase.name}": the request (defaults merged) is not valid: ${formatZodIssues(request.error.issues)}`,
        { input: origin, hint: tableHint, cause: request.error },
      );
    }
    return {
      name: testCase.name,
      request: request.data,
      expect: testCase.expect,
      determinedBy: testCase.determinedBy,
    };
  });
}

function mergeDefaults(defaults: unknown, overrides: unknown): unknown {
  if (!isPlainObject(defaults) || !isPlainObject(overrides))
    return overrides === undefined ? defaults : overrides;
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) merged[key] = mergeDefaults(defaults[key], value);
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameMembers(expected: readonly string[], actual: readonly string[]): boolean {
  const wanted = new Set(expected);
  const got = new Set(actual);
  return wanted.size === got.size && [...wanted].every((id) => got.has(id));
}
