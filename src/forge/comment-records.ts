import { z } from 'zod';
import type { GitRunner } from './git-command.js';
import { RefFiles } from './ref-files.js';

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
  private readonly files: RefFiles;

  constructor(git: GitRunner, gitDir: string) {
    this.files = new RefFiles(git, gitDir, COMMENTS_REF, 'the comment');
  }

  async add(comment: Omit<PullRequestComment, 'id'>): Promise<PullRequestComment> {
    return this.files.change(async (entries) => {
      const sequence =
        entries.reduce((highest, entry) => {
          const match = COMMENT_FILE.exec(entry.name);
          return match && Number(match[1]) === comment.pullRequest
            ? Math.max(highest, Number(match[2]))
            : highest;
        }, 0) + 1;
      const stored = PullRequestComment.parse({ ...comment, id: `${comment.pullRequest}-${sequence}` });
      return {
        result: stored,
        write: [{ name: `${stored.id}.json`, content: `${JSON.stringify(stored, null, 2)}\n` }],
        message: `Comment on pull request #${comment.pullRequest}`,
      };
    });
  }

  /** The comments on one pull request, oldest first. */
  async list(pullRequest: number): Promise<PullRequestComment[]> {
    const mine = (await this.files.entries(await this.files.tip()))
      .map((entry) => ({ entry, match: COMMENT_FILE.exec(entry.name) }))
      .filter(({ match }) => match && Number(match[1]) === pullRequest)
      .sort((a, b) => Number(a.match?.[2]) - Number(b.match?.[2]));
    const contents = await this.files.read(mine.map(({ entry }) => entry));
    return contents.map((text) => PullRequestComment.parse(JSON.parse(text)));
  }
}
