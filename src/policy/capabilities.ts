import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import picomatch from 'picomatch';
import { z } from 'zod';
import { ApprovalRequirement, GantryAction } from '../domain/actions.js';
import { InvalidInputError } from '../domain/errors.js';
import { type EngineeringRequest, RequestSource } from '../domain/request.js';
import { AutonomyTier } from '../domain/risk.js';
import { minimumTierFor } from './autonomy.js';
import { RunBudget } from './budgets.js';
import { parsePolicyDocument } from './policy-document.js';

/** The capability contracts shipped with Gantry. */
export const defaultCapabilitiesDir = fileURLToPath(new URL('../../policies/capabilities', import.meta.url));

/** What a run under a capability must show before it may complete. */
export const EvidenceRequirement = z.enum([
  'reproduction',
  'failing-test-before',
  'passing-tests-after',
  'diff-within-plan',
  'constraints-checked',
  'rollback-plan',
]);
export type EvidenceRequirement = z.infer<typeof EvidenceRequirement>;

/** Per-run limits; the runtime enforces them, the model is never asked to. */
/** A run's budgets under this capability: the single definition lives with the budget guard. */
export const CapabilityBudgets = RunBudget;
export type CapabilityBudgets = RunBudget;

const glob = z.string().trim().min(1);

/**
 * What a run's setup phase (the dependency install, the one phase that reaches package registries)
 * may do under this capability.
 */
export const SetupRules = z.strictObject({
  /**
   * Whether install runs lifecycle scripts (npm's preinstall/install/postinstall, yarn builds,
   * building Python sdists). Off by default: a dependency's script is code from the internet,
   * run while the registry is reachable. `installArgv` in src/repomap/commands.ts applies it.
   */
  lifecycleScripts: z.boolean().default(false),
});
export type SetupRules = z.infer<typeof SetupRules>;

/**
 * A capability contract: what kind of work Gantry may do, on which requests and repositories,
 * with which actions, evidence, approvals, autonomy and budgets. Unknown keys are an error, so a
 * typo in a contract fails loudly instead of silently widening or narrowing it.
 */
export const CapabilityContract = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a capability id is lower-case words joined by dashes (kebab-case)'),
    version: z.string().trim().min(1),
    /** A team (`@acme/platform`), a person (`@maria`) or an email address, as in CODEOWNERS. */
    owner: z
      .string()
      .regex(
        /^(@[A-Za-z0-9][A-Za-z0-9-]*(\/[A-Za-z0-9._-]+)?|[^\s@]+@[^\s@]+\.[^\s@]+)$/,
        'an owner is a team (@org/team), a person (@handle) or an email address',
      ),
    description: z.string().trim().min(1),
    inputs: z.strictObject({
      sources: z.array(RequestSource).min(1),
      /** More acceptance criteria than this and the request is refused as too broad for the capability. */
      maxAcceptanceCriteria: z.int().min(0).optional(),
    }),
    /** picomatch globs over repository names (`billing-*`), or `owner/name` for requests that carry an owner. */
    repositories: z.array(glob).min(1),
    allowedActions: z.array(GantryAction).min(1),
    forbiddenActions: z.array(GantryAction).default([]),
    /**
     * Workspace paths the capability may edit (picomatch globs). Absent: any path the gateway's own
     * path rules allow; present: only these, and the gateway's rules still apply.
     */
    editablePaths: z.array(glob).min(1).optional(),
    requiredEvidence: z.array(EvidenceRequirement),
    /** What verification lets a change do to the tests themselves. */
    verification: z
      .strictObject({
        /** Change the test command's scripts or the runner's configuration (package.json scripts, pytest.ini, …). */
        mayChangeTestSetup: z.boolean().default(false),
      })
      .default({ mayChangeTestSetup: false }),
    /** Who must approve each action; `approvalFor` supplies the default for an action not listed. */
    approvals: z.partialRecord(GantryAction, ApprovalRequirement).default({}),
    maxAutonomyTier: AutonomyTier,
    /** Runs per day for this capability, across repositories. */
    dailyRunCap: z.int().positive(),
    budgets: CapabilityBudgets,
    /** Patch and verify rounds before the run gives up. */
    maxPatchIterations: z.int().positive(),
    /** Absent: the defaults of {@link SetupRules} (no lifecycle scripts). */
    setup: SetupRules.prefault({}),
  })
  .superRefine((contract, context) => {
    for (const key of ['allowedActions', 'forbiddenActions'] as const) {
      const twice = duplicates(contract[key]);
      if (twice.length > 0) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `lists ${twice.join(', ')} more than once`,
        });
      }
    }
    const forbidden = new Set(contract.forbiddenActions);
    const overlap = contract.allowedActions.filter((action) => forbidden.has(action));
    if (overlap.length > 0) {
      context.addIssue({
        code: 'custom',
        path: ['forbiddenActions'],
        message:
          `${overlap.join(', ')} ${overlap.length === 1 ? 'is' : 'are'} both allowed and forbidden; ` +
          'an action belongs in at most one of allowedActions and forbiddenActions',
      });
    }
    const beyondTier = contract.allowedActions.filter(
      (action) => minimumTierFor(action) > contract.maxAutonomyTier,
    );
    if (beyondTier.length > 0) {
      context.addIssue({
        code: 'custom',
        path: ['allowedActions'],
        message: `${beyondTier
          .map((action) => `${action} needs autonomy tier ${minimumTierFor(action)}`)
          .join(', ')}, above maxAutonomyTier ${contract.maxAutonomyTier}; raise the tier or drop the action`,
      });
    }
  });
export type CapabilityContract = z.infer<typeof CapabilityContract>;

/** Actions a person signs off by default; every other action not listed in `approvals` is automatic. */
const reviewedByDefault: ReadonlySet<GantryAction> = new Set(['merge', 'deploy', 'rollback']);

/**
 * Who must approve an action under a contract: the contract's `approvals` entry, else `reviewer`
 * for merge, deploy and rollback and `automatic` for everything else. Whether the action is
 * allowed at all is a separate question (allowed and forbidden actions, tier, Cedar).
 *
 * @example
 * approvalFor(lowRiskBugfix, 'open_pr'); // 'automatic'
 * approvalFor(lowRiskBugfix, 'deploy'); // 'reviewer' (not listed: the default)
 */
export function approvalFor(contract: CapabilityContract, action: GantryAction): ApprovalRequirement {
  return contract.approvals[action] ?? (reviewedByDefault.has(action) ? 'reviewer' : 'automatic');
}

/**
 * Whether the contract allows an action: listed in `allowedActions` and not in `forbiddenActions`.
 * An action in neither list is not allowed.
 *
 * @example
 * contractAllows(lowRiskBugfix, 'edit_files'); // true
 * contractAllows(lowRiskBugfix, 'merge'); // false
 */
export function contractAllows(contract: CapabilityContract, action: GantryAction): boolean {
  return contract.allowedActions.includes(action) && !contract.forbiddenActions.includes(action);
}

/**
 * Whether the contract lets a run edit a workspace-relative path: any path when the contract has
 * no `editablePaths`, else only paths one of its globs matches. The gateway's own path rules
 * (traversal, forbidden files) apply on top.
 *
 * @example
 * contractAllowsEdit(documentationUpdate, 'docs/setup.md'); // true
 * contractAllowsEdit(documentationUpdate, 'src/index.ts'); // false
 */
export function contractAllowsEdit(contract: CapabilityContract, workspacePath: string): boolean {
  if (!contract.editablePaths) return true;
  return picomatch.isMatch(workspacePath.replace(/^\.\//, ''), contract.editablePaths, { dot: true });
}

/** Whether a request fits a capability, with every reason it does not. */
export interface CapabilityCheck {
  allowed: boolean;
  reasons: string[];
}

const knownIdsHint = (ids: readonly string[]) =>
  `Set \`capability:\` in the request to one of: ${ids.join(', ')}.`;

/** The capability contracts in force, by id. */
export class CapabilityRegistry {
  readonly #contracts: ReadonlyMap<string, CapabilityContract>;

  /**
   * @example
   * const registry = new CapabilityRegistry([CapabilityContract.parse(document)]);
   */
  constructor(contracts: Iterable<CapabilityContract>) {
    const byId = new Map<string, CapabilityContract>();
    for (const contract of contracts) {
      if (byId.has(contract.id)) {
        throw new InvalidInputError(`Two capability contracts have the id "${contract.id}"`, {
          input: contract.id,
          hint: 'Give every capability contract its own id.',
        });
      }
      byId.set(contract.id, contract);
    }
    this.#contracts = byId;
  }

  /**
   * The contract with this id.
   *
   * @example
   * registry.get('low-risk-bugfix').maxAutonomyTier; // 3
   */
  get(id: string): CapabilityContract {
    const contract = this.#contracts.get(id);
    if (contract === undefined) {
      throw new InvalidInputError(
        `Unknown capability "${id}"; known capabilities: ${this.#ids().join(', ') || 'none'}`,
        { input: id, hint: knownIdsHint(this.#ids()) },
      );
    }
    return contract;
  }

  /**
   * Every contract, ordered by id.
   *
   * @example
   * registry.list().map((contract) => contract.id); // ['dependency-patch-upgrade', ...]
   */
  list(): CapabilityContract[] {
    return this.#ids().map((id) => this.get(id));
  }

  /**
   * Whether a request fits the capability it names: its source is accepted, its repository
   * matches one of the contract's globs, and it has no more acceptance criteria than allowed.
   * Every failed condition gives one reason; a request naming an unknown capability is refused.
   *
   * @example
   * registry.check(request); // { allowed: true, reasons: [] }
   */
  check(request: EngineeringRequest): CapabilityCheck {
    const contract = this.#contracts.get(request.capability);
    if (contract === undefined) {
      return {
        allowed: false,
        reasons: [`Unknown capability "${request.capability}". ${knownIdsHint(this.#ids())}`],
      };
    }
    const reasons: string[] = [];
    const named = `capability ${contract.id}`;
    if (!contract.inputs.sources.includes(request.source)) {
      reasons.push(
        `Requests from source "${request.source}" are not accepted by ${named} (accepted: ${contract.inputs.sources.join(', ')}).`,
      );
    }
    const { name, owner } = request.repository;
    const candidates = owner === undefined ? [name] : [name, `${owner}/${name}`];
    const matchesRepository = picomatch(contract.repositories, { nocase: true, dot: true });
    if (!candidates.some((candidate) => matchesRepository(candidate))) {
      reasons.push(
        `Repository "${owner === undefined ? name : `${owner}/${name}`}" is not covered by ${named} (repositories: ${contract.repositories.join(', ')}).`,
      );
    }
    const limit = contract.inputs.maxAcceptanceCriteria;
    const criteria = request.acceptanceCriteria.length;
    if (limit !== undefined && criteria > limit) {
      reasons.push(
        `The request has ${criteria} acceptance criteria; ${named} takes at most ${limit}. Split the request.`,
      );
    }
    return { allowed: reasons.length === 0, reasons };
  }

  #ids(): string[] {
    return [...this.#contracts.keys()].sort();
  }
}

const contractHint =
  'Fix the capability contract (see policies/capabilities/low-risk-bugfix.yaml for a complete one), then run again.';

/**
 * Reads and validates every `*.yaml` capability contract under a directory (subfolders
 * included). Each file must be named `<id>.yaml`; ids are unique. Any problem is an
 * InvalidInputError naming the file and, for schema problems, each field's path.
 *
 * @example
 * const registry = await loadCapabilities(); // policies/capabilities
 * registry.get('low-risk-bugfix').allowedActions.includes('open_pr'); // true
 */
export async function loadCapabilities(dir: string = defaultCapabilitiesDir): Promise<CapabilityRegistry> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (cause) {
    throw new InvalidInputError(
      `Cannot read the capability contracts directory ${dir}: ${(cause as Error).message}`,
      {
        input: dir,
        hint: 'Point Gantry at a directory of capability contracts (policies/capabilities holds the shipped ones).',
        cause,
      },
    );
  }
  const misnamed = entries.find((entry) => entry.endsWith('.yml'));
  if (misnamed !== undefined) {
    const file = path.join(dir, misnamed);
    throw new InvalidInputError(`Capability contract ${file} ends in .yml; Gantry reads only .yaml files`, {
      input: file,
      hint: `Rename it to ${path.basename(misnamed, '.yml')}.yaml.`,
    });
  }
  const files = entries
    .filter((entry) => entry.endsWith('.yaml'))
    .sort()
    .map((entry) => path.join(dir, entry));
  if (files.length === 0) {
    throw new InvalidInputError(`No capability contracts (*.yaml) in ${dir}`, {
      input: dir,
      hint: 'Add at least one contract; without one every request is refused.',
    });
  }

  const fileById = new Map<string, string>();
  const contracts: CapabilityContract[] = [];
  for (const file of files) {
    const contract = parseCapabilityContract(await readFile(file, 'utf8'), file);
    const expected = `${contract.id}.yaml`;
    if (path.basename(file) !== expected) {
      throw new InvalidInputError(
        `Capability contract ${file} has the id "${contract.id}" but is named ${path.basename(file)}`,
        { input: file, hint: `Rename the file to ${expected}, or change its id to match the file name.` },
      );
    }
    const earlier = fileById.get(contract.id);
    if (earlier !== undefined) {
      throw new InvalidInputError(
        `Capability contract ${file} has the id "${contract.id}", already used by ${earlier}`,
        { input: file, hint: 'Keep one contract per id: remove or rename one of the two.' },
      );
    }
    fileById.set(contract.id, file);
    contracts.push(contract);
  }
  return new CapabilityRegistry(contracts);
}

/**
 * Parses and validates the text of one capability contract; `origin` names it in errors.
 *
 * @example
 * const contract = parseCapabilityContract(text, 'policies/capabilities/low-risk-bugfix.yaml');
 */
export function parseCapabilityContract(text: string, origin: string): CapabilityContract {
  return parsePolicyDocument(text, origin, CapabilityContract, {
    label: 'Capability contract',
    hint: contractHint,
  });
}

function duplicates<T>(items: readonly T[]): T[] {
  return [...new Set(items.filter((item, index) => items.indexOf(item) !== index))];
}
