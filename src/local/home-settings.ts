import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parsePolicyDocument } from '../policy/policy-document.js';
import { RegistryAllowlist } from '../sandbox/egress/registry-allowlist.js';
import { WorkspaceDiskSettings } from '../workspaces/disk-settings.js';

/** The settings file of a Gantry home, `<home>/settings.yaml`; unknown keys are refused so a typo fails loudly. */
export const HomeSettings = z.strictObject({
  /**
   * Directories a request's `repository.path` may point into. Relative entries are resolved against
   * the home. When neither this nor `--repository-root` names any, the working directory and the OS
   * temporary directory are allowed.
   */
  repositoryRoots: z.array(z.string().min(1)).optional(),
  /** The registries a setup-phase install may reach (the embedded default: the npm registry). */
  egress: RegistryAllowlist.optional(),
  /** Each run workspace's disk limit and the home's budget (see src/workspaces/disk-settings.ts). */
  workspaceDisk: WorkspaceDiskSettings.optional(),
});
export type HomeSettings = z.infer<typeof HomeSettings>;

export const HOME_SETTINGS_FILE = 'settings.yaml';

/**
 * Reads `<home>/settings.yaml`; a home without one has no settings. Relative repository roots come
 * back resolved against the home.
 *
 * @example
 * const { repositoryRoots } = await loadHomeSettings('.gantry'); // ['/srv/repos']
 */
export async function loadHomeSettings(home: string): Promise<HomeSettings> {
  const file = join(home, HOME_SETTINGS_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return {};
  const settings = parsePolicyDocument(text, file, HomeSettings.nullable(), {
    label: 'Gantry settings file',
    hint: 'the file may hold `repositoryRoots:` (a list of directories, e.g. `repositoryRoots: [/srv/repos]`), `egress:` (the registries installs may reach) and `workspaceDisk:` (workspaceBytes, homeBudgetBytes)',
  });
  const roots = settings?.repositoryRoots;
  return {
    ...(roots ? { repositoryRoots: roots.map((root) => resolve(dirname(file), root)) } : {}),
    ...(settings?.egress ? { egress: settings.egress } : {}),
    ...(settings?.workspaceDisk ? { workspaceDisk: settings.workspaceDisk } : {}),
  };
}
