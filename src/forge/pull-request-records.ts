import { z } from 'zod';
import { ForgeError } from '../domain/errors.js';
import type { PullRequest } from '../ports/forge.js';
import type { GitRunner } from './git-command.js';
import { type RefEntry, RefFiles } from './ref-files.js';

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

const RECORD_FILE = /^(\d+)\.json$/;

/**
 * Reads and changes the pull-request records of one bare repository.
 *
 * @example
 * const records = new PullRequestRecords(git, '/forge/billing.git');
 * const all = await records.list();
 */
export class PullRequestRecords {
  private readonly files: RefFiles;

  constructor(git: GitRunner, gitDir: string) {
    this.files = new RefFiles(git, gitDir, PULLS_REF, 'the pull request');
  }

  /** Every record, by number. */
  async list(): Promise<PullRequest[]> {
    return this.readAll(await this.files.entries(await this.files.tip()));
  }

  async get(number: number): Promise<PullRequest | undefined> {
    const text = await this.files.readFile(`${number}.json`);
    return text === undefined ? undefined : this.parse(text, `${number}.json`);
  }

  /**
   * Reads the records, lets `decide` choose what to write, and writes it with a
   * compare-and-swap on {@link PULLS_REF}. When another writer moved the ref in between,
   * `decide` runs again on the fresh records, so two writers never take the same number.
   */
  async change<T>(decide: (records: PullRequest[]) => RecordsDecision<T>): Promise<T> {
    return this.files.change(async (entries) => {
      const decision = decide(await this.readAll(entries));
      if (!decision.write) return { result: decision.result };
      const write = (Array.isArray(decision.write) ? decision.write : [decision.write]).map((record) => ({
        name: `${record.number}.json`,
        content: `${JSON.stringify(PullRequestRecord.parse(record), null, 2)}\n`,
      }));
      return { result: decision.result, write, message: decision.message };
    });
  }

  private async readAll(entries: readonly RefEntry[]): Promise<PullRequest[]> {
    const files = entries.filter((entry) => RECORD_FILE.test(entry.name));
    const contents = await this.files.read(files);
    const records = files.map((file, index) => this.parse(contents[index] ?? '', file.name));
    return records.sort((a, b) => a.number - b.number);
  }

  private parse(text: string, fileName: string): PullRequest {
    try {
      return PullRequestRecord.parse(JSON.parse(text));
    } catch (cause) {
      throw new ForgeError(`the pull-request record ${fileName} in ${PULLS_REF} is not valid`, {
        input: this.files.gitDir,
        hint: `inspect it with: git --git-dir ${this.files.gitDir} show ${PULLS_REF}:${fileName}`,
        cause,
      });
    }
  }
}
