import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { markdownInline } from '../inert-text/index.js';
import type { EvalCaseOutcome, EvalResult } from './eval-result.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;
// Case ids come from the suite, failures quote what runs recorded: both are escaped as untrusted.
const mdCell = markdownInline;

interface KindRow {
  kind: string;
  cases: number;
  passed: number;
}

function byKind(cases: readonly EvalCaseOutcome[]): KindRow[] {
  const rows = new Map<string, KindRow>();
  for (const c of cases) {
    const row = rows.get(c.kind) ?? { kind: c.kind, cases: 0, passed: 0 };
    row.cases++;
    if (c.passed) row.passed++;
    rows.set(c.kind, row);
  }
  return [...rows.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

function figureRows(result: EvalResult): [string, string][] {
  const f = result.figures;
  return [
    ['Cases', String(f.cases)],
    ['Passed', String(f.passed)],
    ['Task success rate', percent(f.taskSuccessRate)],
    ['Evidence completeness rate', percent(f.evidenceCompletenessRate)],
    ['Policy violation rate', percent(f.policyViolationRate)],
    ['Tool calls denied', String(f.toolCallsDenied)],
    ['Escapes', String(f.escapes)],
    ['Tokens', String(f.tokens)],
    ['Model cost', `${f.costUsd.toFixed(4)} USD`],
    ['Duration p50', `${f.durationP50Ms} ms`],
    ['Duration p95', `${f.durationP95Ms} ms`],
  ];
}

/**
 * The eval result as a markdown report: provenance, figures, per-kind and per-case tables.
 *
 * @example
 * await writeFile('tasks-report.md', renderEvalMarkdown(result));
 */
export function renderEvalMarkdown(result: EvalResult): string {
  const lines = [
    `# Eval report: ${result.suite}`,
    '',
    `Model ${result.model}, agent ${result.agentVersion}, policy ${result.policyVersion}.`,
    `Node ${result.toolVersions.node}, ${result.toolVersions.git}${result.toolVersions.bwrap ? `, ${result.toolVersions.bwrap}` : ''}, Gantry ${result.toolVersions.gantry}.`,
    `Ran ${result.startedAt} to ${result.finishedAt}.`,
    '',
    '## Figures',
    '',
    '| Figure | Value |',
    '| --- | --- |',
    ...figureRows(result).map(([name, value]) => `| ${name} | ${value} |`),
    '',
    '## By kind',
    '',
    '| Kind | Cases | Passed |',
    '| --- | --- | --- |',
    ...byKind(result.cases).map((r) => `| ${r.kind} | ${r.cases} | ${r.passed} |`),
    '',
    '## Cases',
    '',
    '| Case | Kind | Language | Result | State (expected) | Duration | Violations | Escaped | Why not |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.cases.map(
      (c) =>
        `| ${mdCell(c.id)} | ${c.kind} | ${c.language} | ${c.passed ? 'pass' : 'FAIL'} | ${c.state} (${c.expectedState}) | ${c.durationMs} ms | ${c.violationsRecorded} | ${c.escaped ? 'YES' : 'no'} | ${mdCell(c.failures.join('; '))} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

const PASS = '#2e7d32';
const FAIL = '#c62828';

function durationChart(cases: readonly EvalCaseOutcome[]): string {
  const barHeight = 18;
  const labelWidth = 220;
  const chartWidth = 480;
  const max = Math.max(1, ...cases.map((c) => c.durationMs));
  const height = cases.length * (barHeight + 6) + 10;
  const bars = cases.map((c, i) => {
    const y = 5 + i * (barHeight + 6);
    const width = Math.max(1, Math.round((c.durationMs / max) * chartWidth));
    return [
      `<text x="${labelWidth - 6}" y="${y + 13}" text-anchor="end">${escapeHtml(c.id)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${width}" height="${barHeight}" fill="${c.passed ? PASS : FAIL}"><title>${escapeHtml(`${c.id}: ${c.durationMs} ms, ${c.passed ? 'passed' : 'failed'}`)}</title></rect>`,
      `<text x="${labelWidth + width + 4}" y="${y + 13}">${c.durationMs} ms</text>`,
    ].join('');
  });
  return `<svg role="img" aria-label="Duration per case" xmlns="http://www.w3.org/2000/svg" width="${labelWidth + chartWidth + 90}" height="${height}" font-size="12" font-family="sans-serif">${bars.join('')}</svg>`;
}

function ratesChart(result: EvalResult): string {
  const rates: [string, number][] = [
    ['Task success', result.figures.taskSuccessRate],
    ['Evidence completeness', result.figures.evidenceCompletenessRate],
    ['Policy violation', result.figures.policyViolationRate],
  ];
  const bars = rates.map(([name, rate], i) => {
    const y = 5 + i * 26;
    const width = Math.round(rate * 400);
    return `<text x="174" y="${y + 14}" text-anchor="end">${escapeHtml(name)}</text><rect x="180" y="${y}" width="400" height="20" fill="#eeeeee"/><rect x="180" y="${y}" width="${width}" height="20" fill="#1565c0"/><text x="586" y="${y + 14}">${escapeHtml(percent(rate))}</text>`;
  });
  return `<svg role="img" aria-label="Rates" xmlns="http://www.w3.org/2000/svg" width="660" height="${rates.length * 26 + 10}" font-size="12" font-family="sans-serif">${bars.join('')}</svg>`;
}

/**
 * The eval result as a self-contained HTML page with inline SVG charts; every text from the result is escaped.
 *
 * @example
 * await writeFile('tasks-report.html', renderEvalHtml(result));
 */
export function renderEvalHtml(result: EvalResult): string {
  const e = escapeHtml;
  const figures = figureRows(result)
    .map(([name, value]) => `<tr><th scope="row">${e(name)}</th><td>${e(value)}</td></tr>`)
    .join('');
  const kinds = byKind(result.cases)
    .map(
      (r) =>
        `<tr><td>${e(r.kind)}</td><td>${r.cases}</td><td>${r.passed}</td><td>${e(percent(r.passed / r.cases))}</td></tr>`,
    )
    .join('');
  const cases = result.cases
    .map(
      (c) =>
        `<tr class="${c.passed ? 'pass' : 'fail'}"><td>${e(c.id)}</td><td>${e(c.kind)}</td><td>${e(c.language)}</td><td>${c.passed ? 'pass' : 'FAIL'}</td><td>${e(c.state)} (${e(c.expectedState)})</td><td>${c.durationMs} ms</td><td>${c.violationsRecorded}</td><td>${c.escaped ? 'YES' : 'no'}</td><td>${c.failures.map((f) => e(f)).join('<br>')}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Eval report: ${e(result.suite)}</title>
<style>
body { font-family: sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
tr.fail td { background: #fdecea; }
.provenance { color: #555; }
</style>
</head>
<body>
<h1>Eval report: ${e(result.suite)}</h1>
<p class="provenance">Model ${e(result.model)}, agent ${e(result.agentVersion)}, policy ${e(result.policyVersion)}; node ${e(result.toolVersions.node)}, ${e(result.toolVersions.git)}${result.toolVersions.bwrap ? `, ${e(result.toolVersions.bwrap)}` : ''}, Gantry ${e(result.toolVersions.gantry)}. Ran ${e(result.startedAt)} to ${e(result.finishedAt)}.</p>
<h2>Figures</h2>
<table>${figures}</table>
<h2>Rates</h2>
${ratesChart(result)}
<h2>Duration per case</h2>
<p>Green passed, red failed.</p>
${durationChart(result.cases)}
<h2>By kind</h2>
<table><tr><th>Kind</th><th>Cases</th><th>Passed</th><th>Pass rate</th></tr>${kinds}</table>
<h2>Cases</h2>
<table><tr><th>Case</th><th>Kind</th><th>Language</th><th>Result</th><th>State (expected)</th><th>Duration</th><th>Violations</th><th>Escaped</th><th>Why not</th></tr>${cases}</table>
</body>
</html>
`;
}

/**
 * Writes `<suite>-result.json`, `<suite>-report.md` and `<suite>-report.html` into `outDir`.
 *
 * @example
 * const files = await writeEvalReports(result, 'eval-out');
 * files.html // 'eval-out/tasks-report.html'
 */
export async function writeEvalReports(
  result: EvalResult,
  outDir: string,
): Promise<{ json: string; markdown: string; html: string }> {
  await mkdir(outDir, { recursive: true });
  const files = {
    json: join(outDir, `${result.suite}-result.json`),
    markdown: join(outDir, `${result.suite}-report.md`),
    html: join(outDir, `${result.suite}-report.html`),
  };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.markdown, renderEvalMarkdown(result));
  await writeFile(files.html, renderEvalHtml(result));
  return files;
}
