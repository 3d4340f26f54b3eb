import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One request the stand-in received, as the assertions need it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | undefined;
}

interface StoredPull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  createdAt: string;
  mergedAt: string | null;
  mergeCommit: string | null;
  mergedBy: string | null;
  labels: string[];
}

/**
 * A small stand-in for the GitHub REST API on 127.0.0.1, backed by one bare git repository that
 * its `clone_url` (a file:// URL) points at, so clones and pushes are real. It answers the
 * endpoints the GitHub forge uses with payloads shaped like GitHub's, and records every request.
 *
 * @example
 * const api = await startGitHubStandIn({ owner: 'acme', repo: 'billing-service', gitDir, defaultBranch: 'main' });
 * const octokit = new Octokit({ auth: 'token', baseUrl: api.baseUrl });
 * await api.close();
 */
export async function startGitHubStandIn(options: {
  owner: string;
  repo: string;
  gitDir: string;
  defaultBranch: string;
}): Promise<{
  baseUrl: string;
  requests: RecordedRequest[];
  pulls: StoredPull[];
  comments: Array<{ id: number; issue: number; body: string }>;
  close(): Promise<void>;
}> {
  const requests: RecordedRequest[] = [];
  const pulls: StoredPull[] = [];
  const comments: Array<{ id: number; issue: number; body: string }> = [];
  const { owner, repo, gitDir, defaultBranch } = options;
  let baseUrl = '';
  const git = async (...args: string[]) =>
    (
      await run('git', ['--git-dir', gitDir, ...args], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: 'GitHub',
          GIT_AUTHOR_EMAIL: 'noreply@github.com',
          GIT_COMMITTER_NAME: 'GitHub',
          GIT_COMMITTER_EMAIL: 'noreply@github.com',
        },
      })
    ).stdout.trim();
  const resolve = (ref: string) =>
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`).catch(() => undefined);
  const isAncestor = (a: string, b: string) =>
    git('merge-base', '--is-ancestor', a, b).then(
      () => true,
      () => false,
    );
  const user = { login: 'gantry-bot', id: 1, type: 'Bot' };
  const repoPayload = () => ({
    id: 4242,
    node_id: 'R_kgDOAAAA',
    name: repo,
    full_name: `${owner}/${repo}`,
    private: true,
    owner: { login: owner, id: 7, type: 'Organization' },
    html_url: `https://github.example/${owner}/${repo}`,
    url: `${baseUrl}/repos/${owner}/${repo}`,
    clone_url: `file://${gitDir}`,
    default_branch: defaultBranch,
  });
  const branchPayload = (ref: string, sha: string) => ({
    label: `${owner}:${ref}`,
    ref,
    sha,
    user: { login: owner },
    repo: repoPayload(),
  });
  const pullPayload = async (pull: StoredPull) => ({
    url: `${baseUrl}/repos/${owner}/${repo}/pulls/${pull.number}`,
    id: 1000 + pull.number,
    node_id: `PR_${pull.number}`,
    html_url: `https://github.example/${owner}/${repo}/pull/${pull.number}`,
    number: pull.number,
    state: pull.mergedAt ? 'closed' : pull.state,
    locked: false,
    title: pull.title,
    user,
    body: pull.body,
    labels: pull.labels.map((name, index) => ({ id: index + 1, name, color: 'ededed', default: false })),
    created_at: pull.createdAt,
    updated_at: pull.createdAt,
    closed_at: pull.mergedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommit,
    merged: Boolean(pull.mergedAt),
    merged_by: pull.mergedBy ? { login: pull.mergedBy, id: 2, type: 'User' } : null,
    draft: false,
    head: branchPayload(pull.head, (await resolve(`refs/heads/${pull.head}`)) ?? ''),
    base: branchPayload(pull.base, (await resolve(`refs/heads/${pull.base}`)) ?? ''),
  });
  const commitPayload = async (sha: string) => {
    const [tree = '', parents = '', name = '', message = ''] = (
      await git('show', '-s', '--format=%T%x1f%P%x1f%an%x1f%B', sha)
    ).split('\x1f');
    return {
      sha,
      node_id: `C_${sha.slice(0, 8)}`,
      url: `${baseUrl}/repos/${owner}/${repo}/commits/${sha}`,
      html_url: `https://github.example/${owner}/${repo}/commit/${sha}`,
      commit: {
        author: { name, email: 'someone@example.com', date: '2030-01-01T00:00:00Z' },
        message,
        tree: { sha: tree },
      },
      author: null,
      parents: parents
        .split(' ')
        .filter(Boolean)
        .map((parent) => ({ sha: parent })),
    };
  };
  /** GitHub marks a pull request merged once its head is on its base branch. */
  const detectMerges = async (branch: string, sha: string) => {
    for (const pull of pulls) {
      const head = await resolve(`refs/heads/${pull.head}`);
      if (pull.state === 'open' && pull.base === branch && head && (await isAncestor(head, sha))) {
        Object.assign(pull, {
          state: 'closed',
          mergedAt: '2030-01-01T12:00:00Z',
          mergeCommit: sha,
          mergedBy: 'gantry-bot',
        });
      }
    }
  };

  const routes: Array<
    [string, RegExp, (match: string[], request: RecordedRequest) => Promise<[number, unknown]>]
  > = [
    ['GET', /^\/repos\/[^/]+\/[^/]+$/, async () => [200, repoPayload()]],
    [
      'GET',
      /^\/repos\/[^/]+\/[^/]+\/git\/ref\/heads\/(.+)$/,
      async ([, branch = '']) => {
        const sha = await resolve(`refs/heads/${branch}`);
        if (!sha) return [404, { message: 'Not Found', status: '404' }];
        return [200, { ref: `refs/heads/${branch}`, node_id: 'REF_1', object: { sha, type: 'commit' } }];
      },
    ],
    [
      'PATCH',
      /^\/repos\/[^/]+\/[^/]+\/git\/refs\/heads\/(.+)$/,
      async ([, branch = ''], request) => {
        const { sha, force } = request.body as { sha: string; force?: boolean };
        const current = await resolve(`refs/heads/${branch}`);
        if (!current) return [422, { message: 'Reference does not exist', status: '422' }];
        if (!(await resolve(sha))) return [422, { message: 'Object does not exist', status: '422' }];
        if (!force && !(await isAncestor(current, sha))) {
          return [422, { message: 'Update is not a fast forward', status: '422' }];
        }
        await git('update-ref', `refs/heads/${branch}`, sha, current);
        await detectMerges(branch, sha);
        return [200, { ref: `refs/heads/${branch}`, object: { sha, type: 'commit' } }];
      },
    ],
    [
      'GET',
      /^\/repos\/[^/]+\/[^/]+\/pulls$/,
      async (_match, request) => {
        const wanted = request.query.state ?? 'open';
        const head = request.query.head;
        const chosen = pulls.filter(
          (pull) =>
            (wanted === 'all' || (pull.mergedAt ? 'closed' : pull.state) === wanted) &&
            (!head || `${owner}:${pull.head}` === head),
        );
        return [200, await Promise.all(chosen.map(pullPayload))];
      },
    ],
    [
      'POST',
      /^\/repos\/[^/]+\/[^/]+\/pulls$/,
      async (_match, request) => {
        const input = request.body as { head: string; base: string; title: string; body?: string };
        if (!(await resolve(`refs/heads/${input.head}`))) {
          return [
            422,
            {
              message: 'Validation Failed',
              errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }],
            },
          ];
        }
        if (pulls.some((pull) => pull.head === input.head && pull.state === 'open' && !pull.mergedAt)) {
          return [
            422,
            {
              message: 'Validation Failed',
              errors: [{ message: `A pull request already exists for ${owner}:${input.head}.` }],
            },
          ];
        }
        const pull: StoredPull = {
          number: pulls.length + 1,
          title: input.title,
          body: input.body ?? '',
          head: input.head,
          base: input.base,
          state: 'open',
          createdAt: '2030-01-01T00:00:00Z',
          mergedAt: null,
          mergeCommit: null,
          mergedBy: null,
          labels: ['gantry'],
        };
        pulls.push(pull);
        return [201, await pullPayload(pull)];
      },
    ],
    [
      'GET',
      /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/,
      async ([, number]) => {
        const pull = pulls.find((candidate) => candidate.number === Number(number));
        return pull ? [200, await pullPayload(pull)] : [404, { message: 'Not Found', status: '404' }];
      },
    ],
    [
      'PUT',
      /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/merge$/,
      async ([, number], request) => {
        const pull = pulls.find((candidate) => candidate.number === Number(number));
        if (!pull) return [404, { message: 'Not Found' }];
        const head = (await resolve(`refs/heads/${pull.head}`)) ?? '';
        const { sha } = request.body as { sha?: string };
        if (sha && sha !== head)
          return [409, { message: 'Head branch was modified. Review and try the merge again.' }];
        const base = (await resolve(`refs/heads/${pull.base}`)) ?? '';
        const tree = await git('merge-tree', '--write-tree', base, head).catch(() => undefined);
        if (!tree) return [405, { message: 'Pull Request is not mergeable' }];
        const merge = await git(
          'commit-tree',
          tree.split('\n')[0] ?? '',
          '-p',
          base,
          '-p',
          head,
          '-m',
          `Merge pull request #${pull.number} from ${owner}/${pull.head}`,
        );
        await git('update-ref', `refs/heads/${pull.base}`, merge, base);
        Object.assign(pull, {
          state: 'closed',
          mergedAt: '2030-01-01T12:00:00Z',
          mergeCommit: merge,
          mergedBy: 'gantry-bot',
        });
        return [200, { sha: merge, merged: true, message: 'Pull Request successfully merged' }];
      },
    ],
    [
      'POST',
      /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/,
      async ([, number], request) => {
        const id = 9000 + comments.length + 1;
        const { body } = request.body as { body: string };
        comments.push({ id, issue: Number(number), body });
        return [
          201,
          {
            id,
            node_id: `IC_${id}`,
            url: `${baseUrl}/repos/${owner}/${repo}/issues/comments/${id}`,
            html_url: `https://github.example/${owner}/${repo}/pull/${number}#issuecomment-${id}`,
            body,
            user,
            created_at: '2030-01-01T00:00:00Z',
            updated_at: '2030-01-01T00:00:00Z',
            author_association: 'NONE',
          },
        ];
      },
    ],
    [
      'GET',
      /^\/repos\/[^/]+\/[^/]+\/compare\/(.+)\.\.\.(.+)$/,
      async ([, base = '', head = '']) => {
        const baseSha = await resolve(base);
        const headSha = await resolve(head);
        if (!baseSha || !headSha) return [404, { message: 'Not Found' }];
        const mergeBase = await git('merge-base', baseSha, headSha);
        const listed = (await git('rev-list', '--reverse', `${mergeBase}..${headSha}`))
          .split('\n')
          .filter(Boolean);
        const names = (await git('diff', '--name-status', '--no-renames', mergeBase, headSha))
          .split('\n')
          .filter(Boolean);
        return [
          200,
          {
            status: listed.length ? 'ahead' : 'identical',
            ahead_by: listed.length,
            behind_by: 0,
            total_commits: listed.length,
            merge_base_commit: await commitPayload(mergeBase),
            commits: await Promise.all(listed.map(commitPayload)),
            files: names.map((line) => {
              const [status = '', filename = ''] = line.split('\t');
              return { filename, status: status === 'A' ? 'added' : status === 'D' ? 'removed' : 'modified' };
            }),
          },
        ];
      },
    ],
    [
      'GET',
      /^\/repos\/[^/]+\/[^/]+\/commits$/,
      async (_match, request) => {
        const start = (await resolve(request.query.sha ?? defaultBranch)) ?? '';
        const perPage = Number(request.query.per_page ?? 30);
        const listed = (await git('rev-list', `--max-count=${perPage}`, start)).split('\n').filter(Boolean);
        return [200, await Promise.all(listed.map(commitPayload))];
      },
    ],
  ];

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = decodeURIComponent(url.pathname);
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        query: Object.fromEntries(url.searchParams),
        body: text ? JSON.parse(text) : undefined,
        authorization: req.headers.authorization,
      };
      requests.push(recorded);
      const respond = (status: number, payload: unknown) => {
        res.writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          'x-github-media-type': 'github.v3',
        });
        res.end(JSON.stringify(payload));
      };
      if (!recorded.authorization) return respond(401, { message: 'Requires authentication', status: '401' });
      const mine = `/repos/${owner}/${repo}`;
      if (path !== mine && !path.startsWith(`${mine}/`))
        return respond(404, { message: 'Not Found', status: '404' });
      const route = routes.find(([method, pattern]) => method === recorded.method && pattern.test(path));
      if (!route) return respond(404, { message: 'Not Found', status: '404' });
      const [, pattern, handle] = route;
      handle(pattern.exec(path) as unknown as string[], recorded).then(
        ([status, payload]) => respond(status, payload),
        (error: unknown) => respond(500, { message: String(error) }),
      );
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    requests,
    pulls,
    comments,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
