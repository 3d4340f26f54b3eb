import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../adapters/aws/dynamodb-event-log.js';
import { GantryError } from '../domain/errors.js';
import { type LocalEngines, startLocalEngines } from '../local/engines.js';
import { type ApprovalServer, startApprovalServer } from './approval-server.js';
import {
  type ApprovalLinkPayload,
  approvalLinkUrl,
  newLinkNonce,
  RecordStoreLinkLedger,
  signApprovalLink,
} from './signed-links.js';

const now = new Date('2026-11-21T12:00:00.000Z');
const key = randomBytes(32);

interface Decision {
  approvalId: string;
  decision: string;
  approver: string;
  reason: string | undefined;
}

function link(overrides: Partial<ApprovalLinkPayload> = {}, signingKey: Uint8Array = key): string {
  return signApprovalLink(
    {
      approvalId: 'apv-0123456789ab',
      decision: 'approve',
      approver: 'sam',
      expiresAt: '2026-11-22T12:00:00.000Z',
      nonce: newLinkNonce(),
      ...overrides,
    },
    signingKey,
  );
}

const asJson = { accept: 'application/json' };

describe('approval link server', () => {
  let dir: string;
  let engines: LocalEngines;
  let server: ApprovalServer;
  const decisions: Decision[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-approval-server-'));
    engines = await startLocalEngines(join(dir, 'data'));
    await ensureEventLogTables(engines.dynamo, defaultTableNames());
    const ledger = new RecordStoreLinkLedger(new DynamoEventLog(engines.dynamo, defaultTableNames()));
    server = await startApprovalServer({
      key,
      ledger,
      now: () => now,
      // Stands in for Gantry.decide, which refuses an approval decided before.
      decide: async (approvalId, decision, approver, reason) => {
        if (decisions.some((d) => d.approvalId === approvalId)) {
          throw new GantryError(`approval ${approvalId} was already answered`, { hint: 'see gantry show' });
        }
        decisions.push({ approvalId, decision, approver, reason });
      },
    });
  });

  beforeEach(() => {
    decisions.length = 0;
  });

  afterAll(async () => {
    await server?.close();
    await engines?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on loopback and answers its health check', async () => {
    // Act
    const response = await fetch(`${server.url}/health`);
    // Assess
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('shows a confirmation page on GET and decides nothing, however often the link is fetched', async () => {
    // Prepare
    const url = approvalLinkUrl(server.url, link());
    // Act: a link scanner fetches twice before the person opens it
    await fetch(url);
    const response = await fetch(url);
    const html = await response.text();
    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(html).toContain('<form method="post">');
    expect(html).toContain('as <strong>sam</strong>');
    expect(decisions).toEqual([]);
  });

  it('decides on POST with the reason given, and refuses the same link a second time as replayed', async () => {
    // Prepare
    const url = approvalLinkUrl(server.url, link({ decision: 'reject' }));
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    // Act
    const first = await fetch(url, { method: 'POST', headers: form, body: 'reason=rounding+looks+wrong' });
    const firstPage = await first.text();
    const second = await fetch(url, {
      method: 'POST',
      headers: { ...form, ...asJson },
      body: 'reason=again',
    });
    // Assess
    expect(first.status).toBe(200);
    expect(firstPage).toContain('sam rejected');
    expect(second.status).toBe(403);
    expect(await second.json()).toMatchObject({ error: 'replayed' });
    expect(decisions).toEqual([
      {
        approvalId: 'apv-0123456789ab',
        decision: 'rejected',
        approver: 'sam',
        reason: 'rounding looks wrong',
      },
    ]);
  });

  it('refuses a forged link with 403 and decides nothing', async () => {
    // Prepare
    const url = approvalLinkUrl(server.url, link({}, randomBytes(32)));
    // Act
    const get = await fetch(url);
    const post = await fetch(url, { method: 'POST', headers: asJson });
    // Assess
    expect(get.status).toBe(403);
    expect(await get.text()).toContain('signature Gantry did not make');
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({ error: 'forged' });
    expect(decisions).toEqual([]);
  });

  it('refuses an expired link with 403 and decides nothing', async () => {
    // Prepare
    const url = approvalLinkUrl(server.url, link({ expiresAt: '2026-11-21T11:59:59.000Z' }));
    // Act
    const post = await fetch(url, { method: 'POST', headers: asJson });
    // Assess
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({
      error: 'expired',
      message: expect.stringContaining('expired at'),
    });
    expect(decisions).toEqual([]);
  });

  it('answers 409 with the reason when the runtime refuses the decision', async () => {
    // Prepare: the approval is answered through another link first
    await fetch(approvalLinkUrl(server.url, link()), { method: 'POST' });
    // Act
    const response = await fetch(approvalLinkUrl(server.url, link({ approver: 'priya' })), {
      method: 'POST',
      headers: { ...asJson, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'late' }),
    });
    // Assess
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      error: 'refused',
      message: expect.stringContaining('already'),
    });
    expect(decisions.map((d) => d.approver)).toEqual(['sam']);
  });

  it('escapes what the link carries in its page', async () => {
    // Prepare
    const url = approvalLinkUrl(server.url, link({ approver: '<script>alert(1)</script>' }));
    // Act
    const html = await (await fetch(url)).text();
    // Assess
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    // Act
    const missing = await fetch(`${server.url}/approvals`);
    const put = await fetch(approvalLinkUrl(server.url, link()), { method: 'PUT' });
    // Assess
    expect(missing.status).toBe(404);
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
  });
});
