import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { ForgeError } from '../domain/errors.js';
import type { PullRequest } from '../ports/forge.js';
import type { GitRunner } from './git-command.js';

/**
 * The ref whose commit history holds the pull-request records: a tree of `<number>.json`.
 * Keeping them in the repository (not in side files) means a copy of the bare repository
 * carries its pull requests, and git's compare-and-swap on refs is the only lock needed.
 */
export const PULLS_REF = 'refs/gantry/pulls';

/** `refs/pull/<n>/head`, as on GitHub: the commit the pull request proposes. */
export function pullHeadRef(number: number): string {
  return `refs/pull/${number}/head`;
}

/** One pull request as stored in `refs/gantry/pulls:<number>.json`. */
export const PullRequestRecord = z.strictObject({
  repository: z.string().min(1),
  number: z.number().int().positive(),
  url: z.string().min(1),
  title: z.string(),
  body: z.string(),
  branch: z.string().min(1),
  base: z.string().min(1),
  head: z.string().regex(/^[0-9a-f]{40,64}$/),
  state: z.enum(['open', 'merged', 'closed']),
  runId: z.string(),
  createdAt: z.string(),
  mergeCommit: z
    .string()
    .regex(/^[0-9a-f]{40,64}$/)
    .optional(),
  mergedAt: z.string().optional(),
  mergedBy: z.string().optional(),
  labels: z.array(z.string()).optional(),
}) satisfies z.ZodType<PullRequest>;

/** What a change to the records decided: a result, and the record(s) to write if any, in one commit. */
export type RecordsDecision<T> =
  | { result: T; write?: undefined }
  | { result: T; write: PullRequest | PullRequest[]; message: string };

/** Two writers racing for the ref retry; this many failed swaps in a row means something else is wrong. */
const MAX_SWAP_ATTEMPTS = 60;
const RECORD_FILE = /^(\d+)\.json$/;

/**
 * Reads and changes the pull-request records of one bare repository.
 *
 * @example
 * const records = new PullRequestRecords(git, '/forge/billing.git');
 * const all = await records.list();
 */
export class PullRequestRecords {
  constructor(
    private readonly git: GitRunner,
    private readonly gitDir: string,
  ) {}

  /** Every record, by number. */
  async list(): Promise<PullRequest[]> {
    const tip = await this.tip();
    return tip ? this.readAll(tip) : [];
  }

  async get(number: number): Promise<PullRequest | undefined> {
    const tip = await this.tip();
    if (!tip) return undefined;
    const blob = await this.git.run(this.inRepo('cat-file', 'blob', `${tip}:${number}.json`));
    return blob.ok ? this.parse(blob.stdout, `${number}.json`) : undefined;
  }

  /**
   * Reads the records, lets `decide` choose what to write, and writes it with a
   * compare-and-swap on {@link PULLS_REF}. When another writer moved the ref in between,
   * `decide` runs again on the fresh records, so two writers never take the same number.
   */
  async change<T>(decide: (records: PullRequest[]) => RecordsDecision<T>): Promise<T> {
    let lastFailure = '';
    for (let attempt = 1; attempt <= MAX_SWAP_ATTEMPTS; attempt++) {
      const tip = await this.tip();
      const decision = decide(tip ? await this.readAll(tip) : []);
      if (!decision.write) return decision.result;
      const commit = await this.commitRecord(tip, decision.write, decision.message);
      // An empty old value means "the ref must not exist yet".
      const swap = await this.git.run(
        this.inRepo('update-ref', '-m', decision.message, PULLS_REF, commit, tip ?? ''),
      );
      if (swap.ok) return decision.result;
      lastFailure = swap.stderr.trim();
      await delay(Math.floor(Math.random() * 10 * Math.min(attempt, 8)) + 1);
    }
    throw new ForgeError(
      `could not record the pull request after ${MAX_SWAP_ATTEMPTS} attempts: ${lastFailure}`,
      {
        input: this.gitDir,
        hint: `check that nothing else keeps rewriting ${PULLS_REF} and that the forge directory is writable, then retry`,
      },
    );
  }

  private async tip(): Promise<string | undefined> {
    const result = await this.git.run(
      this.inRepo('rev-parse', '--verify', '--quiet', `${PULLS_REF}^{commit}`),
    );
    return result.ok ? result.stdout.trim() : undefined;
  }

  private async readAll(tip: string): Promise<PullRequest[]> {
    const entries = await this.treeEntries(tip);
    const files = entries.flatMap((entry) => (RECORD_FILE.test(entry.name) ? [entry] : []));
    if (files.length === 0) return [];
    const batch = await this.git.output(this.inRepo('cat-file', '--batch'), {
      input: `${files.map((file) => file.object).join('\n')}\n`,
    });
    const contents = splitBatch(`${batch}\n`);
    const records = files.map((file, index) => this.parse(contents[index] ?? '', file.name));
    return records.sort((a, b) => a.number - b.number);
  }

  private async commitRecord(
    tip: string | undefined,
    write: PullRequest | PullRequest[],
    message: string,
  ): Promise<string> {
    const written: string[] = [];
    const names = new Set<string>();
    for (const record of Array.isArray(write) ? write : [write]) {
      const fileName = `${record.number}.json`;
      const blob = await this.git.output(this.inRepo('hash-object', '-w', '--stdin'), {
        input: `${JSON.stringify(PullRequestRecord.parse(record), null, 2)}\n`,
      });
      names.add(fileName);
      written.push(`100644 blob ${blob}\t${fileName}`);
    }
    const kept = tip ? (await this.treeEntries(tip)).filter((entry) => !names.has(entry.name)) : [];
    const lines = [...kept.map((entry) => entry.line), ...written];
    const tree = await this.git.output(this.inRepo('mktree'), { input: `${lines.join('\n')}\n` });
    const parent = tip ? ['-p', tip] : [];
    return this.git.output(this.inRepo('commit-tree', tree, ...parent, '-m', message));
  }

  private async treeEntries(tip: string): Promise<Array<{ line: string; object: string; name: string }>> {
    const listing = await this.git.output(this.inRepo('ls-tree', tip));
    return listing
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [meta = '', name = ''] = line.split('\t');
        return { line, object: meta.split(' ')[2] ?? '', name };
      });
  }

  private parse(text: string, fileName: string): PullRequest {
    try {
      return PullRequestRecord.parse(JSON.parse(text));
    } catch (cause) {
      throw new ForgeError(`the pull-request record ${fileName} in ${PULLS_REF} is not valid`, {
        input: this.gitDir,
        hint: `inspect it with: git --git-dir ${this.gitDir} show ${PULLS_REF}:${fileName}`,
        cause,
      });
    }
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
