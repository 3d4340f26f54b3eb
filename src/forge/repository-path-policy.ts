import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidInputError } from '../domain/errors.js';

/** Which rule refused a repository path. */
export type RepositoryPathRule =
  | 'filesystem-root'
  | 'system-directory'
  | 'home-directory'
  | 'temporary-directory'
  | 'gantry-home'
  | 'outside-allowed-roots';

/** A request's `repository.path` names a directory Gantry must not import. */
export class RepositoryPathRefusedError extends InvalidInputError {
  override name = 'RepositoryPathRefusedError';
  /** The real path (symlinks resolved) that was refused. */
  readonly path: string;
  readonly rule: RepositoryPathRule;

  constructor(
    message: string,
    options: { path: string; rule: RepositoryPathRule; hint: string; cause?: unknown },
  ) {
    super(message, { input: options.path, hint: options.hint, cause: options.cause });
    this.path = options.path;
    this.rule = options.rule;
  }
}

export interface RepositoryPathPolicyOptions {
  /** Directories a repository may live under (at any depth, or the directory itself). */
  roots: readonly string[];
  /** The Gantry home: its forge, keys and workspaces are never a repository to import. */
  gantryHome?: string;
  /** Where the roots are configured, for the hint of a refusal; default `settings.yaml` in the Gantry home. */
  settingsFile?: string;
}

/** Top-level directories of the host that hold the system, never a repository: refused at any depth. */
const SYSTEM_DIRECTORIES = ['/etc', '/usr', '/bin', '/sbin', '/boot', '/dev', '/proc', '/sys', '/run'];
/** Directories whose direct children are people's homes. */
const HOME_PARENTS = ['/home', '/Users'];

/**
 * The roots Gantry allows when none are configured: the working directory (the README's
 * `examples/...` and the eval suites) and the OS temporary directory (tests, eval copies).
 * A working directory of `/` is left out, since it would allow the whole host.
 *
 * @example
 * new RepositoryPathPolicy({ roots: defaultRepositoryRoots(), gantryHome: '/srv/gantry' });
 */
export function defaultRepositoryRoots(): string[] {
  const cwd = path.resolve(process.cwd());
  return [...(cwd === path.parse(cwd).root ? [] : [cwd]), os.tmpdir()];
}

/**
 * Decides whether a request may point Gantry at a directory: the path is resolved with realpath
 * (so a symlink is judged by where it leads) and refused when it is the filesystem root, a system
 * directory, a home directory itself, the temporary directory itself, inside the Gantry home, or
 * outside every allowed root. Directories under `/var` are refused unless an allowed root under
 * `/var` holds them.
 *
 * @example
 * const policy = new RepositoryPathPolicy({ roots: ['/srv/repos'], gantryHome: '/srv/gantry' });
 * const real = await policy.check('/srv/repos/billing'); // '/srv/repos/billing'
 * await policy.check('/etc'); // throws RepositoryPathRefusedError (rule 'system-directory')
 */
export class RepositoryPathPolicy {
  readonly roots: readonly string[];
  readonly gantryHome: string | undefined;
  private readonly settingsFile: string;

  constructor(options: RepositoryPathPolicyOptions) {
    this.roots = options.roots.map((root) => path.resolve(root));
    this.gantryHome = options.gantryHome === undefined ? undefined : path.resolve(options.gantryHome);
    this.settingsFile =
      options.settingsFile ??
      (this.gantryHome ? path.join(this.gantryHome, 'settings.yaml') : "the Gantry home's settings.yaml");
  }

  /**
   * The real path of `repositoryPath` when the policy allows it; a {@link RepositoryPathRefusedError}
   * otherwise. A path that does not exist is returned resolved but not refused, so the caller can say so.
   */
  async check(repositoryPath: string): Promise<string> {
    const real = await realpathOrResolved(repositoryPath);
    const refusal = await this.refusalOf(real);
    if (refusal) {
      const shown = real === path.resolve(repositoryPath) ? real : `${repositoryPath} (really ${real})`;
      throw new RepositoryPathRefusedError(`refusing repository.path ${shown}: ${refusal.reason}`, {
        path: real,
        rule: refusal.rule,
        hint: refusal.hint,
      });
    }
    return real;
  }

  private async refusalOf(
    real: string,
  ): Promise<{ rule: RepositoryPathRule; reason: string; hint: string } | undefined> {
    const pointElsewhere = 'point repository.path at the directory of one repository';
    if (real === path.parse(real).root) {
      return { rule: 'filesystem-root', reason: 'it is the root of the filesystem', hint: pointElsewhere };
    }
    const system = SYSTEM_DIRECTORIES.find((dir) => isWithin(real, dir)) ?? systemLibraryOf(real);
    if (system) {
      return {
        rule: 'system-directory',
        reason: `it is inside the system directory ${system}`,
        hint: pointElsewhere,
      };
    }
    const roots = await Promise.all(this.roots.map((root) => realpathOrResolved(root)));
    if (
      isWithin(real, '/var') &&
      !roots.some((root) => isStrictlyWithin(root, '/var') && isWithin(real, root))
    ) {
      return {
        rule: 'system-directory',
        reason: 'it is inside /var, which holds the system’s state, and no allowed root under /var holds it',
        hint: `${pointElsewhere}, or allow its directory under /var with ${this.howToAllow()}`,
      };
    }
    const homes = [await realpathOrResolved(os.homedir()), '/root'];
    if (homes.includes(real) || HOME_PARENTS.some((dir) => real === dir || path.dirname(real) === dir)) {
      return {
        rule: 'home-directory',
        reason: 'it is a home directory (or the directory of homes) itself, not a repository',
        hint: `${pointElsewhere} inside it`,
      };
    }
    if (real === (await realpathOrResolved(os.tmpdir()))) {
      return {
        rule: 'temporary-directory',
        reason: 'it is the temporary directory itself, shared by every program on the host',
        hint: `${pointElsewhere} inside it`,
      };
    }
    const home = this.gantryHome && (await realpathOrResolved(this.gantryHome));
    if (home && isWithin(real, home)) {
      return {
        rule: 'gantry-home',
        reason: `it is inside the Gantry home ${home}, which holds the forge, keys and workspaces`,
        hint: `${pointElsewhere} outside ${home}`,
      };
    }
    if (!roots.some((root) => isWithin(real, root))) {
      return {
        rule: 'outside-allowed-roots',
        reason: `it is outside the allowed repository roots (${roots.join(', ') || 'none'})`,
        hint: `allow its directory with ${this.howToAllow()}`,
      };
    }
    return undefined;
  }

  private howToAllow(): string {
    return `--repository-root <dir> (repeatable) or a repositoryRoots entry in ${this.settingsFile}`;
  }
}

/** The `/lib`, `/lib64`, `/libx32`… directory `real` is in, if any. */
function systemLibraryOf(real: string): string | undefined {
  const [top = ''] = real.split(path.sep).filter(Boolean);
  return /^lib/.test(top) ? `/${top}` : undefined;
}

async function realpathOrResolved(target: string): Promise<string> {
  const resolved = path.resolve(target);
  return fs.realpath(resolved).catch(() => resolved);
}

/** True when `child` is `parent` or below it. */
export function isWithin(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return (
    relative === '' ||
    (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
  );
}

function isStrictlyWithin(child: string, parent: string): boolean {
  return child !== parent && isWithin(child, parent);
}
