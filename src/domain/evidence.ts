import { z } from 'zod';
import {
  markdownCode,
  markdownCodeBlock,
  markdownInline,
  markdownText,
  markdownUrl,
} from '../inert-text/index.js';
import { RiskTier } from './risk.js';

const CommandResult = z.strictObject({
  argv: z.array(z.string()).min(1),
  exitCode: z.number().int(),
  passed: z.boolean(),
  output: z.string().regex(/^[a-f0-9]{64}$/),
  excerpt: z.string(),
});

/** The packet a reviewer reads before merging: what changed, why it is right, how to undo it. */
export const EvidencePacket = z.strictObject({
  runId: z.string(),
  traceId: z.string(),
  title: z.string(),
  summary: z.string(),
  request: z.strictObject({ source: z.string(), sourceRef: z.string().optional(), requester: z.string() }),
  scope: z.strictObject({
    filesChanged: z.array(
      z.strictObject({ path: z.string(), additions: z.number().int(), deletions: z.number().int() }),
    ),
    outsidePlan: z.array(z.string()),
  }),
  reproduction: z.strictObject({
    reproduced: z.boolean(),
    before: CommandResult.optional(),
    testFiles: z.array(z.string()),
    reason: z.string().optional(),
  }),
  verification: z.array(CommandResult),
  risk: z.strictObject({ tier: RiskTier, reasons: z.array(z.string()), maxAutonomyTier: z.number().int() }),
  constraints: z.array(z.strictObject({ constraint: z.string(), honoured: z.boolean(), how: z.string() })),
  rollback: z.strictObject({ method: z.string(), steps: z.array(z.string()) }),
  agent: z.strictObject({
    model: z.string(),
    turns: z.number().int(),
    toolCalls: z.number().int(),
    deniedToolCalls: z.number().int(),
  }),
  policyVersion: z.string(),
});
export type EvidencePacket = z.infer<typeof EvidencePacket>;

/** The sections a packet must carry for a run to complete, and the test each must pass. */
const requiredSections: ReadonlyArray<[string, (p: EvidencePacket) => boolean]> = [
  ['summary', (p) => p.summary.trim().length > 0],
  ['scope', (p) => p.scope.filesChanged.length > 0],
  [
    'reproduction',
    (p) =>
      p.reproduction.reproduced
        ? p.reproduction.before !== undefined && !p.reproduction.before.passed
        : Boolean(p.reproduction.reason),
  ],
  ['verification', (p) => p.verification.length > 0 && p.verification.every((v) => v.passed)],
  ['risk', (p) => p.risk.reasons.length > 0],
  ['constraints', (p) => p.constraints.every((c) => c.honoured)],
  ['rollback', (p) => p.rollback.steps.length > 0],
  ['traceId', (p) => /^[a-f0-9]{32}$/.test(p.traceId)],
];

/** Completeness as the share of required sections present and sound, with the ones missing. */
export function scoreEvidence(packet: EvidencePacket): { completeness: number; missing: string[] } {
  const missing = requiredSections.filter(([, ok]) => !ok(packet)).map(([name]) => name);
  return { completeness: (requiredSections.length - missing.length) / requiredSections.length, missing };
}

/**
 * Renders the packet as the pull request body. Every text in the packet that came from outside the
 * runtime (the title, paths, test commands and output, the agent's words) is escaped, so it shows
 * as text: no HTML, link, mention, heading or fence of its own.
 *
 * @example
 * await deps.artifacts.put(renderEvidenceMarkdown(packet), 'text/markdown; charset=utf-8');
 */
export function renderEvidenceMarkdown(packet: EvidencePacket): string {
  const { completeness, missing } = scoreEvidence(packet);
  const lines: string[] = [];
  lines.push(`## Evidence packet — ${markdownInline(packet.title)}`, '');
  lines.push(markdownText(packet.summary), '');
  lines.push(
    `- Run: ${markdownCode(packet.runId)}  ·  Trace: ${markdownCode(packet.traceId)}  ·  Policy: ${markdownCode(packet.policyVersion)}`,
  );
  lines.push(
    `- Requested by ${markdownInline(packet.request.requester)} via ${markdownInline(packet.request.source)}${packet.request.sourceRef ? ` (${markdownUrl(packet.request.sourceRef)})` : ''}`,
  );
  lines.push(
    `- Completeness: ${Math.round(completeness * 100)}%${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
    '',
  );
  lines.push('### Scope', '');
  for (const f of packet.scope.filesChanged)
    lines.push(`- ${markdownCode(f.path)} (+${f.additions} −${f.deletions})`);
  if (packet.scope.outsidePlan.length)
    lines.push('', `Outside the plan: ${packet.scope.outsidePlan.map((p) => markdownCode(p)).join(', ')}`);
  lines.push('', '### Reproduction', '');
  if (packet.reproduction.before) {
    const b = packet.reproduction.before;
    lines.push(
      `Before the patch, ${markdownCode(b.argv.join(' '))} exited ${b.exitCode} (${b.passed ? 'passed' : 'failed'}):`,
      '',
      markdownCodeBlock(b.excerpt),
    );
  } else {
    lines.push(`Not reproduced: ${markdownInline(packet.reproduction.reason ?? 'no reason recorded')}`);
  }
  if (packet.reproduction.testFiles.length)
    lines.push('', `Tests added: ${packet.reproduction.testFiles.map((t) => markdownCode(t)).join(', ')}`);
  lines.push('', '### Verification', '');
  for (const v of packet.verification) {
    lines.push(
      `After the patch, ${markdownCode(v.argv.join(' '))} exited ${v.exitCode} (${v.passed ? 'passed' : 'failed'}):`,
      '',
      markdownCodeBlock(v.excerpt),
      '',
    );
  }
  lines.push(
    '### Risk',
    '',
    `Tier **${packet.risk.tier}**, autonomy tier at most ${packet.risk.maxAutonomyTier}.`,
    '',
  );
  for (const r of packet.risk.reasons) lines.push(`- ${markdownInline(r)}`);
  lines.push('', '### Constraints', '');
  if (packet.constraints.length === 0) lines.push('None stated.');
  for (const c of packet.constraints)
    lines.push(`- [${c.honoured ? 'x' : ' '}] ${markdownInline(c.constraint)} — ${markdownInline(c.how)}`);
  lines.push('', '### Rollback', '', markdownText(packet.rollback.method), '');
  for (const s of packet.rollback.steps) lines.push(`1. ${markdownInline(s)}`);
  lines.push('', '### Agent', '');
  lines.push(
    `Model ${markdownCode(packet.agent.model)}, ${packet.agent.turns} turns, ${packet.agent.toolCalls} tool calls (${packet.agent.deniedToolCalls} denied).`,
  );
  return `${lines.join('\n')}\n`;
}
