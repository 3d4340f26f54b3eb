import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { ForgeError } from '../domain/errors.js';
import type { GitRunner } from './git-command.js';

/**
 * The ref whose commit history holds pull-request comments: a flat tree of `<pr>-<seq>.json`.
 * Apart from the pull-request records so a busy review thread never contends with merges.
 */
export const COMMENTS_REF = 'refs/gantry/comments';

/** One comment as stored in `refs/gantry/comments:<pr>-<seq>.json`. */
export const PullRequestComment = z.strictObject({
  id: z.string().regex(/^\d+-\d+$/),
  pullRequest: z.number().int().positive(),
  body: z.string(),
  author: z.string().min(1),
  createdAt: z.string(),
});
export type PullRequestComment = z.infer<typeof PullRequestComment>;

const MAX_SWAP_ATTEMPTS = 60;
const COMMENT_FILE = /^(\d+)-(\d+)\.json$/;

/**
 * Adds and reads the comments of one bare repository's pull requests, with a compare-and-swap
 * on {@link COMMENTS_REF} so two writers never take the same comment number.
 *
 * @example
 * const comments = new CommentRecords(git, '/forge/billing.git');
 * await comments.add({ pullRequest: 3, body: 'Merged by the merge queue', author: 'Gantry', createdAt });
 */
export class CommentRecords {
  constructor(
    private readonly git: GitRunner,
    private readonly gitDir: string,
  ) {}

  async add(comment: Omit<PullRequestComment, 'id'>): Promise<PullRequestComment> {
    let lastFailure = '';
    for (let attempt = 1; attempt <= MAX_SWAP_ATTEMPTS; attempt++) {
      const tip = await this.tip();
      const entries = tip ? await this.treeEntries(tip) : [];
      const sequence =
        entries.reduce((highest, entry) => {
          const match = COMMENT_FILE.exec(entry.name);
          return match && Number(match[1]) === comment.pullRequest
            ? Math.max(highest, Number(match[2]))
            : highest;
        }, 0) + 1;
      const stored = PullRequestComment.parse({ ...comment, id: `${comment.pullRequest}-${sequence}` });
      const blob = await this.git.output(this.inRepo('hash-object', '-w', '--stdin'), {
        input: `${JSON.stringify(stored, null, 2)}\n`,
      });
      const lines = [...entries.map((entry) => entry.line), `100644 blob ${blob}\t${stored.id}.json`];
      const tree = await this.git.output(this.inRepo('mktree'), { input: `${lines.join('\n')}\n` });
      const message = `Comment on pull request #${comment.pullRequest}`;
      const commit = await this.git.output(
        this.inRepo('commit-tree', tree, ...(tip ? ['-p', tip] : []), '-m', message),
      );
      const swap = await this.git.run(
        this.inRepo('update-ref', '-m', message, COMMENTS_REF, commit, tip ?? ''),
      );
      if (swap.ok) return stored;
      lastFailure = swap.stderr.trim();
      await delay(Math.floor(Math.random() * 10 * Math.min(attempt, 8)) + 1);
    }
    throw new ForgeError(`could not record the comment after ${MAX_SWAP_ATTEMPTS} attempts: ${lastFailure}`, {
      input: this.gitDir,
      hint: `check that nothing else keeps rewriting ${COMMENTS_REF} and that the forge directory is writable, then retry`,
    });
  }

  /** The comments on one pull request, oldest first. */
  async list(pullRequest: number): Promise<PullRequestComment[]> {
    const tip = await this.tip();
    if (!tip) return [];
    const mine = (await this.treeEntries(tip))
      .map((entry) => ({ entry, match: COMMENT_FILE.exec(entry.name) }))
      .filter(({ match }) => match && Number(match[1]) === pullRequest)
      .sort((a, b) => Number(a.match?.[2]) - Number(b.match?.[2]));
    const comments: PullRequestComment[] = [];
    for (const { entry } of mine) {
      const text = await this.git.output(this.inRepo('cat-file', 'blob', entry.object));
      comments.push(PullRequestComment.parse(JSON.parse(text)));
    }
    return comments;
  }

  private async tip(): Promise<string | undefined> {
    const result = await this.git.run(
      this.inRepo('rev-parse', '--verify', '--quiet', `${COMMENTS_REF}^{commit}`),
    );
    return result.ok ? result.stdout.trim() : undefined;
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

  private inRepo(...args: string[]): string[] {
    return ['--git-dir', this.gitDir, ...args];
  }
}
