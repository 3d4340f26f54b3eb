import { GantryAction } from '../domain/actions.js';
import { InvalidInputError } from '../domain/errors.js';
import { AutonomyTier, type RiskAssessment } from '../domain/risk.js';
import type { CapabilityContract } from './capabilities.js';

export type AutonomyTierName =
  | 'advisory'
  | 'assisted edit'
  | 'PR automation'
  | 'bounded maintenance'
  | 'release assist'
  | 'conditional operations';

/** Where a tier may deploy to; `deploy` is one action, so the environment is what tiers 4 and 5 differ in. */
export type DeployEnvironment = 'staging' | 'production';

export interface AutonomyTierDefinition {
  tier: AutonomyTier;
  name: AutonomyTierName;
  description: string;
  /** Every action the tier permits, its own and those of the tiers below it. */
  permits: readonly GantryAction[];
  deployEnvironments: readonly DeployEnvironment[];
}

/** Each tier's own additions; `autonomyTiers` accumulates them so a tier never permits less than the one below. */
const tierAdditions: ReadonlyArray<Omit<AutonomyTierDefinition, 'permits'> & { adds: GantryAction[] }> = [
  {
    tier: 0,
    name: 'advisory',
    description:
      'Reads the repository and runs its tests, then reports; it changes nothing. A person acts on the advice.',
    adds: ['inspect', 'run_tests', 'finish'],
    deployEnvironments: [],
  },
  {
    tier: 1,
    name: 'assisted edit',
    description:
      'Edits files on a branch and runs commands in the sandbox. A person opens the pull request: ' +
      'the run stops at a PR approval gate with the branch and its evidence.',
    adds: ['edit_files', 'run_command', 'create_branch'],
    deployEnvironments: [],
  },
  {
    tier: 2,
    name: 'PR automation',
    description: 'Opens the pull request with its evidence packet and comments on it; a person merges.',
    adds: ['open_pr', 'comment'],
    deployEnvironments: [],
  },
  {
    tier: 3,
    name: 'bounded maintenance',
    description:
      "Merges within the capability contract's approvals and rolls back its own changes; nothing is deployed.",
    adds: ['merge', 'rollback'],
    deployEnvironments: [],
  },
  {
    tier: 4,
    name: 'release assist',
    description: 'Deploys to staging after a merge; production stays with people.',
    adds: ['deploy'],
    deployEnvironments: ['staging'],
  },
  {
    tier: 5,
    name: 'conditional operations',
    description:
      'Deploys to production and performs operations (secret reads, network egress) under a pre-approved ' +
      'runbook, and only when the capability contract and policy conditions allow each one.',
    adds: ['read_secret', 'network_egress'],
    deployEnvironments: ['staging', 'production'],
  },
];

/**
 * The six autonomy tiers as data, lowest first; `autonomyTiers[n].tier === n`. Permits are
 * cumulative: every tier permits what the tiers below it do.
 *
 * @example
 * autonomyTiers[2].name; // 'PR automation'
 * autonomyTiers[2].permits.includes('open_pr'); // true
 */
export const autonomyTiers: readonly AutonomyTierDefinition[] = tierAdditions.map(
  ({ adds: _adds, ...tier }, index) => ({
    ...tier,
    permits: tierAdditions.slice(0, index + 1).flatMap((lower) => lower.adds),
  }),
);

/**
 * The lowest tier that permits an action.
 *
 * @example
 * minimumTierFor('open_pr'); // 2
 * minimumTierFor('deploy'); // 4
 */
export function minimumTierFor(action: GantryAction): AutonomyTier {
  const tier = autonomyTiers.find((definition) => definition.permits.includes(action));
  if (tier === undefined) {
    throw new InvalidInputError(`Unknown action "${action}": no autonomy tier permits it`, {
      input: String(action),
      hint: `Use one of the Gantry actions: ${GantryAction.options.join(', ')}.`,
    });
  }
  return tier.tier;
}

/**
 * Whether a run at this autonomy tier may take the action. The tier is one bound among several:
 * the capability contract and the Cedar policies must allow the action too.
 *
 * @example
 * tierPermits(1, 'edit_files'); // true
 * tierPermits(1, 'open_pr'); // false: at tier 1 a person opens the pull request
 */
export function tierPermits(tier: number, action: GantryAction): boolean {
  return tierDefinition(tier).permits.includes(action);
}

/**
 * Whether a run at this autonomy tier may deploy to the environment (tier 4 staging, tier 5 production too).
 *
 * @example
 * tierPermitsDeployTo(4, 'production'); // false
 */
export function tierPermitsDeployTo(tier: number, environment: DeployEnvironment): boolean {
  return tierDefinition(tier).deployEnvironments.includes(environment);
}

/** What bound a run's autonomy: its capability contract, its risk assessment, or both. */
export type AutonomyBound = 'capability' | 'risk';

export interface EffectiveAutonomy {
  tier: AutonomyTier;
  /** The bounds that set the tier: both when they agree. */
  limitedBy: AutonomyBound[];
  /** One sentence a reviewer reads: the tier, and which bound set it with its source. */
  explanation: string;
}

/**
 * A run's autonomy: the lower of what its capability contract and its risk assessment allow.
 * Domain caps (authentication, payments, ...) are already part of the assessment's
 * `maxAutonomyTier`, so they bind here as `risk`.
 *
 * @example
 * const { tier, limitedBy } = effectiveAutonomy({ contract, risk: classifyRisk(request, rules) });
 * // an authentication request under low-risk-bugfix: tier 1, limitedBy ['risk']
 */
export function effectiveAutonomy({
  contract,
  risk,
}: {
  contract: CapabilityContract;
  risk: RiskAssessment;
}): EffectiveAutonomy {
  const tier = Math.min(contract.maxAutonomyTier, risk.maxAutonomyTier);
  const limitedBy: AutonomyBound[] = [];
  const because: string[] = [];
  if (contract.maxAutonomyTier === tier) {
    limitedBy.push('capability');
    because.push(
      `capability ${contract.id}@${contract.version} allows at most tier ${contract.maxAutonomyTier}`,
    );
  }
  if (risk.maxAutonomyTier === tier) {
    limitedBy.push('risk');
    const rules = risk.reasons.map((reason) => reason.rule).join(', ');
    because.push(
      `the ${risk.tier} risk assessment (rules ${risk.rulesVersion}: ${rules}) allows at most tier ${risk.maxAutonomyTier}`,
    );
  }
  const name = tierDefinition(tier).name;
  return { tier, limitedBy, explanation: `Autonomy tier ${tier} (${name}): ${because.join(', and ')}.` };
}

function tierDefinition(tier: number): AutonomyTierDefinition {
  const definition = AutonomyTier.safeParse(tier).success ? autonomyTiers[tier] : undefined;
  if (definition === undefined) {
    throw new InvalidInputError(`Autonomy tier ${tier} does not exist`, {
      input: String(tier),
      hint: 'An autonomy tier is a whole number from 0 (advisory) to 5 (conditional operations).',
    });
  }
  return definition;
}
