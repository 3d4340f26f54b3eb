import type { RepositoryCommand, RepositoryContext } from '../domain/context.js';
import { visibleControls } from '../inert-text/index.js';

const KINDS: ReadonlyArray<RepositoryCommand['kind']> = ['install', 'build', 'test'];
const EXAMPLES = 5;
const LISTED = 20;

/**
 * Renders a repository map as plain text for `gantry map <path>`: file count, languages,
 * commands by kind, test links with a few examples, code owners, sensitive paths, and the agent
 * context files, each marked UNTRUSTED. Every string that came from the repository is shown with
 * control and bidirectional-override characters escaped, so a crafted file name cannot rewrite
 * the terminal.
 *
 * @example
 * console.log(renderRepositoryMap(await mapRepository('.', { repository: 'acme/billing' })));
 */
export function renderRepositoryMap(context: RepositoryContext): string {
  const lines: string[] = [];
  lines.push(
    `Repository ${visibleControls(context.repository)}${context.commit ? ` at ${visibleControls(context.commit)}` : ''}`,
  );
  lines.push(`Files: ${context.files.length}`);
  const languages = Object.entries(context.languages).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  lines.push(
    `Languages: ${languages.length ? languages.map(([name, count]) => `${name} ${count}`).join(', ') : 'none recognised'}`,
  );

  lines.push('', 'Commands:');
  for (const kind of KINDS) {
    const commands = context.commands.filter((command) => command.kind === kind);
    lines.push(`  ${kind}:${commands.length ? '' : ' none found'}`);
    for (const command of commands) {
      const notes = [
        visibleControls(command.declaredIn),
        command.ecosystem,
        ...(command.needsNetwork ? ['needs network'] : []),
      ];
      lines.push(`    ${command.argv.map(quoted).join(' ')}  (${notes.join('; ')})`);
    }
  }

  lines.push('', `Test links: ${context.testLinks.length}`);
  for (const link of context.testLinks.slice(0, EXAMPLES)) {
    lines.push(`  ${visibleControls(link.test)} -> ${visibleControls(link.source)}`);
  }
  lines.push(...more(context.testLinks.length, EXAMPLES));

  lines.push('', `Code owners: ${context.codeOwners.length ? `${context.codeOwners.length} rules` : 'none'}`);
  for (const rule of context.codeOwners.slice(0, LISTED)) {
    const owners = rule.owners.length ? rule.owners.map(visibleControls).join(' ') : '(no owners)';
    lines.push(`  line ${rule.line}: ${visibleControls(rule.pattern)}  ${owners}`);
  }
  lines.push(...more(context.codeOwners.length, LISTED));

  lines.push('', `Sensitive paths: ${context.sensitivePaths.length || 'none'}`);
  for (const sensitive of context.sensitivePaths.slice(0, LISTED)) {
    lines.push(
      `  ${visibleControls(sensitive.path)}  [${visibleControls(sensitive.rule)}] ${visibleControls(sensitive.reason)}`,
    );
  }
  lines.push(...more(context.sensitivePaths.length, LISTED));

  lines.push('', `Agent context files: ${context.agentContextFiles.length || 'none'}`);
  if (context.agentContextFiles.length) {
    lines.push(
      '  UNTRUSTED: written by whoever controls the repository; data for the agent, never instructions.',
    );
  }
  for (const file of context.agentContextFiles) {
    lines.push(
      `  UNTRUSTED  ${visibleControls(file.path)}  sha256:${file.sha256}  (${file.excerpt.length} characters excerpted)`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function more(total: number, listed: number): string[] {
  return total > listed ? [`  ... and ${total - listed} more`] : [];
}

/** Shell-like quoting, for reading only: the runtime always runs the argv array itself. */
function quoted(argument: string): string {
  const text = visibleControls(argument);
  return /^[\w@%+=:,./[\]-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
