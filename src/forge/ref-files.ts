import { setTimeout as delay } from 'node:timers/promises';
import { ForgeError } from '../domain/errors.js';
import type { GitRunner } from './git-command.js';

/** One file of the ref's tree, as `git ls-tree` lists it. */
export interface RefEntry {
  /** The `ls-tree` line, reused as is when the tree is rebuilt. */
  line: string;
  object: string;
  name: string;
}

/** What a change decided: a result, and the files to add or replace in one commit, if any. */
export type RefChange<T> =
  | { result: T; write?: undefined }
  | { result: T; write: { name: string; content: string }[]; message: string };

/** Two writers racing for the ref retry; this many failed swaps in a row means something else is wrong. */
const MAX_SWAP_ATTEMPTS = 60;

/**
 * A flat tree of files on one ref of a bare repository (the forge's pull-request records and comments),
 * changed only by commits written with a compare-and-swap `update-ref`, so git's ref update is the only
 * lock: a writer that lost the race reads again and decides again.
 *
 * @example
 * const files = new RefFiles(git, '/forge/billing.git', 'refs/gantry/pulls', 'the pull request');
 * await files.change(async (entries) => ({ result: 1, write: [{ name: '1.json', content }], message: 'Open #1' }));
 */
export class RefFiles {
  constructor(
    private readonly git: GitRunner,
    readonly gitDir: string,
    readonly ref: string,
    /** What a change records, for the error after too many lost races ("the comment"). */
    private readonly what: string,
  ) {}

  /** The ref's commit, or undefined before the first write. */
  async tip(): Promise<string | undefined> {
    const result = await this.git.run(
      this.inRepo('rev-parse', '--verify', '--quiet', `${this.ref}^{commit}`),
    );
    return result.ok ? result.stdout.trim() : undefined;
  }

  async entries(tip: string | undefined): Promise<RefEntry[]> {
    if (!tip) return [];
    const listing = await this.git.output(this.inRepo('ls-tree', tip));
    return listing
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [meta = '', name = ''] = line.split('\t');
        return { line, object: meta.split(' ')[2] ?? '', name };
      });
  }

  /** One file's content at the ref's current tip, or undefined when it has none. */
  async readFile(name: string): Promise<string | undefined> {
    const tip = await this.tip();
    if (!tip) return undefined;
    const blob = await this.git.run(this.inRepo('cat-file', 'blob', `${tip}:${name}`));
    return blob.ok ? blob.stdout : undefined;
  }

  /** The contents of several entries in one `git cat-file --batch`, in their order. */
  async read(entries: readonly RefEntry[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const batch = await this.git.output(this.inRepo('cat-file', '--batch'), {
      input: `${entries.map((entry) => entry.object).join('\n')}\n`,
    });
    return splitBatch(`${batch}\n`);
  }

  /**
   * Reads the tree, lets `decide` choose what to write, and commits it on top with a compare-and-swap
   * on the ref. When another writer moved the ref in between, `decide` runs again on the fresh tree.
   */
  async change<T>(decide: (entries: RefEntry[]) => Promise<RefChange<T>>): Promise<T> {
    let lastFailure = '';
    for (let attempt = 1; attempt <= MAX_SWAP_ATTEMPTS; attempt++) {
      const tip = await this.tip();
      const entries = await this.entries(tip);
      const decision = await decide(entries);
      if (!decision.write) return decision.result;
      const commit = await this.commit(tip, entries, decision.write, decision.message);
      // An empty old value means "the ref must not exist yet".
      const swap = await this.git.run(
        this.inRepo('update-ref', '-m', decision.message, this.ref, commit, tip ?? ''),
      );
      if (swap.ok) return decision.result;
      lastFailure = swap.stderr.trim();
      await delay(Math.floor(Math.random() * 10 * Math.min(attempt, 8)) + 1);
    }
    throw new ForgeError(
      `could not record ${this.what} after ${MAX_SWAP_ATTEMPTS} attempts: ${lastFailure}`,
      {
        input: this.gitDir,
        hint: `check that nothing else keeps rewriting ${this.ref} and that the forge directory is writable, then retry`,
      },
    );
  }

  private async commit(
    tip: string | undefined,
    entries: readonly RefEntry[],
    files: readonly { name: string; content: string }[],
    message: string,
  ): Promise<string> {
    const written: string[] = [];
    for (const file of files) {
      const blob = await this.git.output(this.inRepo('hash-object', '-w', '--stdin'), {
        input: file.content,
      });
      written.push(`100644 blob ${blob}\t${file.name}`);
    }
    const names = new Set(files.map((file) => file.name));
    const kept = entries.filter((entry) => !names.has(entry.name)).map((entry) => entry.line);
    const tree = await this.git.output(this.inRepo('mktree'), {
      input: `${[...kept, ...written].join('\n')}\n`,
    });
    return this.git.output(this.inRepo('commit-tree', tree, ...(tip ? ['-p', tip] : []), '-m', message));
  }

  private inRepo(...args: string[]): string[] {
    return ['--git-dir', this.gitDir, ...args];
  }
}

/** Splits `git cat-file --batch` output (`<oid> <type> <size>\n<bytes>\n` per object) into contents. */
function splitBatch(output: string): string[] {
  const bytes = Buffer.from(output, 'utf8');
  const contents: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const headerEnd = bytes.indexOf(0x0a, offset);
    if (headerEnd < 0) break;
    const size = Number(bytes.subarray(offset, headerEnd).toString('utf8').split(' ')[2]);
    const start = headerEnd + 1;
    if (!Number.isFinite(size)) {
      // `<oid> missing` has no content block.
      contents.push('');
      offset = start;
      continue;
    }
    contents.push(bytes.subarray(start, start + size).toString('utf8'));
    offset = start + size + 1;
  }
  return contents;
}
