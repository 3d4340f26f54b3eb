import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { SecretRedactor } from '../gateway/redact.js';
import { HOSTILE_TEXT, liveMarkupIn, renderMarkdown } from '../inert-text/rendered-markdown.test-support.js';
import { buildReleasePacket, ReleasePacket, type ReleasePacketInput } from './release-packet.js';
import { renderReleasePacket } from './render-release-packet.js';

const previousCommit = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const commit = 'f0e1d2c3b4a5968778695a4b3c2d1e0f98765432';

function readyInput(fields: Partial<ReleasePacketInput> = {}): ReleasePacketInput {
  return {
    service: 'billing-service',
    repository: 'billing-service',
    commit,
    previousRelease: {
      commit: previousCommit,
      deployedAt: '2026-01-01T09:00:00.000Z',
      deploymentId: 'dep-7',
    },
    changes: [
      { commit, subject: 'Merge pull request #3 from gantry/fix-discount', author: 'gantry', pullRequest: 3 },
    ],
    pullRequests: [
      { number: 3, url: 'gantry://billing-service/pull/3', title: 'Invoice total is wrong', runId: 'run-1' },
    ],
    risk: { tier: 'low', autonomyTier: 4, reasons: ['billing-logic: touches invoice totals'] },
    checks: [
      { name: 'failing test before the patch', passed: true, detail: 'the new test failed before the patch' },
      { name: 'tests after the patch', passed: true, detail: 'exit 0' },
      { name: 'merge queue', passed: true, detail: 'tested on a1b2c3d4e5f6, 1 test run(s)' },
      { name: 'review', passed: true, detail: '2 finding(s), 0 blocker(s)' },
      { name: 'evidence packet', passed: true, detail: '100% complete' },
    ],
    approvals: [{ kind: 'merge', decision: 'approved', by: 'lee.chen', at: '2026-01-02T10:00:00.000Z' }],
    requiredApprovals: ['merge'],
    rolloutPlan: {
      steps: [10, 50, 100],
      intervalSeconds: 5,
      analysis: {
        minRequests: 20,
        maxErrorRate: 0.02,
        maxErrorRateIncrease: 0.01,
        maxLatencyP95Ratio: 1.5,
        latencyToleranceMs: 25,
        failureLimit: 2,
        maxPauses: 3,
      },
    },
    monitors: ['error rate above 5% for 30 s', 'p95 latency above 500 ms'],
    rollbackMethod: 'Revert the merge commit through a revert pull request and redeploy the previous commit.',
    preparedAt: '2026-01-02T10:05:00.000Z',
    ...fields,
  };
}

describe('buildReleasePacket', () => {
  it('is ready when every check passed, the required approvals are given and the plan can be watched and undone', () => {
    // Act
    const packet = buildReleasePacket(readyInput());

    // Assess
    expect(packet.ready).toBe(true);
    expect(packet.blockers).toEqual([]);
    expect(ReleasePacket.parse(JSON.parse(JSON.stringify(packet)))).toEqual(packet);
  });

  it('is not ready, saying why, for each failed check, refused or missing approval and critical risk', () => {
    // Prepare
    const input = readyInput({
      checks: [
        { name: 'tests after the patch', passed: true, detail: 'exit 0' },
        { name: 'review', passed: false, detail: '3 finding(s), 1 blocker(s)' },
        { name: 'evidence packet', passed: false, detail: '75% complete' },
      ],
      approvals: [
        { kind: 'merge', decision: 'approved', by: 'lee.chen', at: '2026-01-02T10:00:00.000Z' },
        { kind: 'security-owner', decision: 'rejected', by: 'sam.okafor', at: '2026-01-02T10:01:00.000Z' },
      ],
      requiredApprovals: ['merge', 'deploy'],
      risk: { tier: 'critical', autonomyTier: 0, reasons: ['payments'] },
    });

    // Act
    const packet = buildReleasePacket(input);

    // Assess
    expect(packet.ready).toBe(false);
    expect(packet.blockers).toEqual([
      'risk tier critical: Gantry does not release critical changes',
      'check "review" failed: 3 finding(s), 1 blocker(s)',
      'check "evidence packet" failed: 75% complete',
      'approval security-owner was rejected (sam.okafor, 2026-01-02T10:01:00.000Z)',
      'approval deploy is required and was not given',
    ]);
  });

  it('reads the latest decision of each approval kind', () => {
    // Prepare
    const approvals: ReleasePacketInput['approvals'] = [
      { kind: 'merge', decision: 'approved', by: 'lee.chen', at: '2026-01-02T10:00:00.000Z' },
      { kind: 'deploy', decision: 'expired', by: 'gantry', at: '2026-01-02T09:00:00.000Z' },
      { kind: 'deploy', decision: 'approved', by: 'lee.chen', at: '2026-01-02T11:00:00.000Z' },
    ];

    // Act
    const renewed = buildReleasePacket(readyInput({ approvals, requiredApprovals: ['merge', 'deploy'] }));
    const pending = buildReleasePacket(
      readyInput({
        approvals: [
          ...approvals,
          { kind: 'deploy', decision: 'pending', by: '', at: '2026-01-02T12:00:00.000Z' },
        ],
      }),
    );

    // Assess
    expect(renewed.ready).toBe(true);
    expect(pending.blockers).toEqual(['approval deploy is still pending']);
  });

  it('is not ready with nothing to release, no pull request, no check, no monitor or no rollback method', () => {
    // Act
    const same = buildReleasePacket(
      readyInput({
        previousRelease: { commit, deployedAt: '2026-01-01T09:00:00.000Z', deploymentId: 'dep-8' },
      }),
    );
    const bare = buildReleasePacket(
      readyInput({ changes: [], pullRequests: [], checks: [], monitors: [], rollbackMethod: '  ' }),
    );

    // Assess
    expect(same.blockers).toEqual([`nothing to release: production already runs ${commit.slice(0, 12)}`]);
    expect(bare.blockers).toEqual([
      'nothing to release: no commit since the previous release',
      'no pull request: the release cannot be traced to a reviewed change',
      'no check recorded for this release',
      'no monitor: nothing would see a regression during the rollout',
      'no rollback method: a bad release could not be undone',
    ]);
  });

  it('computes ready itself: a caller cannot pass it in, and a stored packet cannot claim it', () => {
    // Prepare
    const notReady = buildReleasePacket(
      readyInput({ checks: [{ name: 'merge queue', passed: false, detail: 'red' }] }),
    );

    // Act
    const passedIn = () => buildReleasePacket({ ...readyInput(), ready: true } as ReleasePacketInput);
    const tampered = ReleasePacket.safeParse({ ...notReady, ready: true, blockers: [] });

    // Assess
    expect(passedIn).toThrow(InvalidInputError);
    expect(passedIn).toThrow(/Unrecognized key: "ready"/);
    expect(tampered.success).toBe(false);
  });

  it('refuses a rollout plan that does not climb to all traffic, naming the field', () => {
    // Prepare
    const input = readyInput();
    input.rolloutPlan = { ...input.rolloutPlan, steps: [50, 10] };

    // Act / Assess
    expect(() => buildReleasePacket(input)).toThrow(/rolloutPlan\.steps: steps must be strictly ascending/);
    expect(() => buildReleasePacket(input)).toThrow(/the last step must be 100/);
  });

  it('redacts the packet when given a redactor', () => {
    // Prepare
    const secret = 'hunter2-release-secret';
    const input = readyInput({
      changes: [{ commit, subject: `Rotate key ${secret}`, author: 'gantry', pullRequest: 3 }],
    });

    // Act
    const packet = buildReleasePacket(input, { redactor: new SecretRedactor([secret]) });

    // Assess
    expect(JSON.stringify(packet)).not.toContain(secret);
    expect(packet.changes[0]?.subject).toBe('Rotate key [REDACTED:configured-secret]');
  });
});

describe('renderReleasePacket', () => {
  it('renders every section of a ready packet', () => {
    // Act
    const markdown = renderReleasePacket(buildReleasePacket(readyInput()));

    // Assess
    expect(
      markdown.startsWith(`## Release readiness — billing-service at \`${commit.slice(0, 12)}\`\n`),
    ).toBe(true);
    expect(markdown).toContain('**Ready to release.**');
    for (const section of [
      '### Changes (1)',
      '### Pull requests',
      '### Risk',
      '### Checks',
      '### Approvals',
      '### Rollout plan',
      '### Monitors',
      '### Rollback',
    ]) {
      expect(markdown).toContain(section);
    }
    expect(markdown).toContain(`Production runs \`${previousCommit.slice(0, 12)}\` (deployment \`dep-7\``);
    expect(markdown).toContain('- #3 Invoice total is wrong — gantry://billing-service/pull/3 (run `run-1`)');
    expect(markdown).toContain('- [x] merge queue — tested on a1b2c3d4e5f6, 1 test run(s)');
    expect(markdown).toContain('- merge: approved by lee.chen at 2026-01-02T10:00:00.000Z');
    expect(markdown).toContain('production at 10% → 50% → 100% of traffic, 5 s per step');
    expect(markdown).toContain('error rate at most 2%, and at most 1% above');
    expect(markdown).toContain('the rollout aborts after 2 failed analyses');
    expect(markdown).toContain('- p95 latency above 500 ms');
    expect(markdown).toContain('Revert the merge commit');
  });

  it('puts the blockers first for a packet that is not ready, and escapes untrusted text', () => {
    // Prepare
    const packet = buildReleasePacket(
      readyInput({
        previousRelease: undefined,
        checks: [{ name: 'staging smoke', passed: false, detail: 'GET /health answered 503' }],
        changes: [{ commit, subject: 'Fix <img src=x onerror=alert(1)>\nsecond line', author: 'mallory' }],
      }),
    );

    // Act
    const markdown = renderReleasePacket(packet);

    // Assess
    const verdict = markdown.indexOf('**Not ready** (1 blocker):');
    expect(verdict).toBeGreaterThan(0);
    expect(markdown.indexOf('- check "staging smoke" failed: GET /health answered 503')).toBeGreaterThan(
      verdict,
    );
    expect(markdown.indexOf('### Changes')).toBeGreaterThan(markdown.indexOf('check "staging smoke" failed'));
    expect(markdown).toContain('- [ ] staging smoke — GET /health answered 503');
    expect(markdown).toContain('First release: nothing runs in production yet.');
    expect(markdown).toContain('Fix &lt;img src=x onerror=alert(1)&gt; second line — mallory');
    expect(markdown).not.toContain('<img');
  });

  it('shows hostile commit subjects, titles, URLs and rollback text as inert text', () => {
    // Prepare
    const packet = buildReleasePacket(
      readyInput({
        changes: [{ commit, subject: HOSTILE_TEXT, author: '@acme/everyone' }],
        pullRequests: [{ number: 3, url: 'javascript:alert(1)', title: HOSTILE_TEXT, runId: 'run`1' }],
        rollbackMethod: `# Skip the rollback\n${HOSTILE_TEXT}`,
      }),
    );
    // Act
    const markdown = renderReleasePacket(packet);
    // Assess
    const headings = ['Release readiness', 'Changes', 'Pull requests', 'Risk', 'Checks', 'Approvals'];
    expect(liveMarkupIn(markdown, [...headings, 'Rollout plan', 'Monitors', 'Rollback'])).toEqual([]);
    const prose = renderMarkdown(markdown).replace(/<code>[\s\S]*?<\/code>/g, '');
    expect(prose).not.toContain('@acme/');
    expect(prose).not.toContain('#123');
    expect(prose).not.toContain('<a ');
  });
});
