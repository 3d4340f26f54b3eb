import { z } from 'zod';
import {
  markdownCode,
  markdownCodeBlock,
  markdownInline,
  markdownText,
  markdownUrl,
} from '../inert-text/index.js';
import { ConstraintCheck } from './constraint-check.js';
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
  constraints: z.array(ConstraintCheck),
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
    lines.push(
      c.checked === false
        ? `- [ ] ${markdownInline(c.constraint)} — **not checked**: ${markdownInline(c.how)}`
        : `- [${c.honoured ? 'x' : ' '}] ${markdownInline(c.constraint)} — ${markdownInline(c.how)}`,
    );
  lines.push('', '### Rollback', '', markdownText(packet.rollback.method), '');
  for (const s of packet.rollback.steps) lines.push(`1. ${markdownInline(s)}`);
  lines.push('', '### Agent', '');
  lines.push(
    `Model ${markdownCode(packet.agent.model)}, ${packet.agent.turns} turns, ${packet.agent.toolCalls} tool calls (${packet.agent.deniedToolCalls} denied).`,
  );
  return `${lines.join('\n')}\n`;
}

/** How much of a test run the packet and the review show. */
export interface ExcerptLimits {
  /** Lines at most, gap markers included. Default 40. */
  maxLines?: number;
  /** Characters at most. Default 4000. */
  maxChars?: number;
}

const MAX_LINE_CHARS = 240;
/** Lines after a failing test's first line that belong to it (the assertion, the expected value). */
const FAILURE_CONTEXT_LINES = 8;
const MAX_SUMMARY_LINES = 8;
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

/** The lines that say how the run ended, in the runners Gantry meets. */
const summaryLine = new RegExp(
  [
    /^# (?:tests|suites|pass|fail|cancelled|skipped|todo) \d+$/, // node:test, TAP
    /^(?:FAILED|ERROR) \S+/, // pytest short summary
    /^=+ .*\b(?:passed|failed|errors?|no tests ran)\b.* =+$/, // pytest closing line
    /^test result: (?:ok|FAILED)\b/, // cargo
    /^(?:FAIL|ok)\s+\S+\s+[\d.]+s$|^FAIL$/, // go test, per package and overall
    /^\s*(?:Tests?|Test Suites|Test Files):?\s+.*\b(?:passed|failed)\b/, // jest, vitest
    /^\s*\d+ (?:passing|failing|pending)\b/, // mocha
    /^\d+ examples?, \d+ failures?/, // rspec
    /Tests run: \d+, Failures: \d+/, // JUnit under Maven or Gradle
    /^BUILD (?:SUCCESS|FAILURE|FAILED|SUCCESSFUL)\b/, // Maven, Gradle
    /^\d+% tests passed, \d+ tests? failed/, // ctest
    /^make(?:\[\d+\])?: \*\*\* .*Error \d+/, // make
  ]
    .map((pattern) => pattern.source)
    .join('|'),
);

/** A line that starts or states a failing test. */
const failureLine =
  /^\s*(?:not ok\b|--- FAIL:|FAIL\b|FAILED\b|[✗✕×✖●]|E\s{2,}|_{3,} \S.* _{3,}$|---- \S+ stdout ----$)|\b(?:AssertionError|AssertError|assertion failed|Traceback \(most recent call last\)|panicked at|panic:|Error:|Expected\b.*\b(?:received|but)\b)/;

/**
 * The part of a test run a reviewer needs: the failing tests first, each with the lines that follow
 * it, then the runner's summary lines (`# fail 1`, `FAILED tests/test_x.py::test_y`, `test result:
 * FAILED`, `--- FAIL: TestX`). Runs of identical lines, or of lines that differ only in numbers (a
 * progress bar, timings), become one line with a count; colour codes are dropped. Without a failure it
 * is the end of the output, summary included. Always within `limits`; omitted stretches are marked.
 *
 * @example
 * excerptTestOutput(await artifacts.getText(verification.output));
 * // 'not ok 1 - zero discount\n  expected: 100\n  actual: 95\n… (40 lines omitted)\n# fail 1'
 */
export function excerptTestOutput(output: string, limits: ExcerptLimits = {}): string {
  const maxLines = Math.max(4, limits.maxLines ?? 40);
  const maxChars = Math.max(200, limits.maxChars ?? 4000);
  const lines = collapseRepeats(
    output
      .replace(ANSI_ESCAPE, '')
      .split(/\r?\n/)
      .map((line) => line.replace(/\s+$/, '')),
  );
  while (lines.length && lines.at(-1) === '') lines.pop();
  while (lines.length && lines[0] === '') lines.shift();

  const summary = lines
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => summaryLine.test(line.trim()))
    .slice(-MAX_SUMMARY_LINES)
    .map(({ index }) => index);
  const budget = maxLines - summary.length - 2; // room for the gap markers
  const failing = new Set<number>();
  lines.forEach((line, index) => {
    if (failing.size >= budget || summaryLine.test(line.trim()) || !failureLine.test(line)) return;
    for (let next = index; next < Math.min(lines.length, index + 1 + FAILURE_CONTEXT_LINES); next++) {
      if (failing.size >= budget) break;
      if (next > index && (lines[next] === '' || summary.includes(next))) break;
      failing.add(next);
    }
  });

  let chosen: number[][];
  if (failing.size === 0) {
    const tail = lines.map((_, index) => index).slice(-Math.max(1, maxLines - summary.length - 1));
    chosen = [[...new Set([...summary, ...tail])].sort((a, b) => a - b)];
  } else {
    chosen = [[...failing].sort((a, b) => a - b), summary.filter((index) => !failing.has(index))];
  }
  return fitChars(render(lines, chosen), maxChars);
}

/** Consecutive lines that are the same, or the same but for their numbers, as one line with a count. */
function collapseRepeats(lines: readonly string[]): string[] {
  const collapsed: string[] = [];
  for (let index = 0; index < lines.length; ) {
    const line = lines[index] as string;
    // A failing test or a summary is never merged with its neighbours: each names a different test.
    const strict = failureLine.test(line) || summaryLine.test(line.trim());
    const key = strict ? line : similarityKey(line);
    let end = index + 1;
    while (end < lines.length && (strict ? lines[end] : similarityKey(lines[end] as string)) === key) end++;
    const count = end - index;
    const identical = lines.slice(index, end).every((other) => other === line);
    if (count === 1 || line.trim() === '') collapsed.push(line);
    else
      collapsed.push(
        identical ? `${line}  [repeated ${count} times]` : `${line}  [and ${count - 1} similar lines]`,
      );
    index = end;
  }
  return collapsed;
}

function similarityKey(line: string): string {
  return line
    .replace(/\b[0-9a-f]{8,}\b/gi, 'h')
    .replace(/\d+(?:\.\d+)?/g, '0')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The chosen line groups in order, with a marker wherever lines were left out. */
function render(lines: readonly string[], groups: readonly number[][]): string[] {
  const out: string[] = [];
  let shownUpTo = -1;
  const gap = (count: number) => out.push(`… (${count} line${count === 1 ? '' : 's'} omitted)`);
  for (const group of groups) {
    for (const index of group) {
      const skipped = index - shownUpTo - 1;
      if (skipped > 0) gap(skipped);
      else if (index <= shownUpTo && out.length) out.push('…');
      out.push(clipLine(lines[index] as string));
      shownUpTo = index;
    }
  }
  const rest = lines.length - 1 - Math.max(shownUpTo, ...groups.flat());
  if (rest > 0) gap(rest);
  return out;
}

function clipLine(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line;
}

/** Drops lines from the middle, never the summary at the end, until the excerpt fits. */
function fitChars(lines: string[], maxChars: number): string {
  const text = () => lines.join('\n');
  while (text().length > maxChars && lines.length > 2) {
    lines.splice(Math.max(0, lines.length - MAX_SUMMARY_LINES - 2), 1);
  }
  return text().slice(0, maxChars);
}
