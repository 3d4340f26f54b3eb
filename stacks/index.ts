/**
 * Loads and validates the settings of one stage. `sst.config.ts` calls it first, so a bad setting stops
 * a deploy before any resource is planned.
 */
import { InvalidInputError } from '../src/domain/errors.js';
import { dev } from './dev.js';
import { production } from './production.js';
import { capabilityIdsIn, StageSettings, type StageSettingsInput } from './schema.js';
import { staging } from './staging.js';

export { StageSettings } from './schema.js';

/** Every stage Gantry knows, by name. */
export const stages: Record<string, StageSettingsInput> = { dev, staging, production };

/**
 * The validated settings of `stage`; an unknown stage, an unknown key or an unknown capability id is an
 * error naming the problem.
 *
 * @example
 * const settings = loadStageSettings('staging'); // settings.models[0] is the default model
 */
export function loadStageSettings(stage: string, root = process.cwd()): StageSettings {
  const input = Object.hasOwn(stages, stage) ? stages[stage] : undefined;
  if (!input) {
    throw new InvalidInputError(`there are no settings for stage "${stage}"`, {
      input: stage,
      hint: `deploy one of the stages in stacks/: ${Object.keys(stages).join(', ')} (or add stacks/${stage}.ts)`,
    });
  }
  const parsed = StageSettings.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(settings)'}: ${issue.message}`,
    );
    throw new InvalidInputError(`the settings of stage "${stage}" are invalid: ${problems.join('; ')}`, {
      input: `stacks/${stage}.ts`,
      hint: 'fix the settings; the schema is stacks/schema.ts',
    });
  }
  const known = capabilityIdsIn(root);
  const unknown = parsed.data.capabilities.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new InvalidInputError(`stage "${stage}" enables unknown capabilities: ${unknown.join(', ')}`, {
      input: `stacks/${stage}.ts`,
      hint: `capabilities are the files under policies/capabilities: ${known.join(', ')}`,
    });
  }
  return parsed.data;
}
