import type { RepositoryCommand, RepositoryContext } from '../domain/context.js';
import { visibleControls } from '../inert-text/index.js';

const KINDS: ReadonlyArray<RepositoryCommand['kind']> = [
  'install',
  'build',
  'test',
  'lint',
  'typecheck',
  'format',
];
const EXAMPLES = 5;
const LISTED = 20;

/**
 * Renders a repository map as plain text for `gantry map <path>`: file count, languages, package
 * manager, commands by kind (where each was found, its source and confidence), the command chosen
 * for each kind and why, steps seen but not run, test folders, test links with a few examples, code owners, sensitive paths, and the agent
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

  if (context.packageManager) {
    const manager = context.packageManager;
    lines.push(
      `Package manager: ${manager.name}${manager.version ? `@${visibleControls(manager.version)}` : ''} (${visibleControls(manager.declaredIn)})`,
    );
  }

  lines.push('', 'Commands:');
  for (const kind of KINDS) {
    const commands = context.commands.filter((command) => command.kind === kind);
    lines.push(`  ${kind}:${commands.length ? '' : ' none found'}`);
    for (const command of commands) {
      const notes = [
        `${visibleControls(command.declaredIn)}${command.line ? `:${command.line}` : ''}`,
        command.ecosystem,
        ...(command.cwd ? [`in ${visibleControls(command.cwd)}`] : []),
        ...(command.source
          ? [`${command.source}${command.confidence === undefined ? '' : ` ${command.confidence}`}`]
          : []),
        ...(command.foundIn && command.foundIn.length > 1
          ? [`found in ${command.foundIn.length} places`]
          : []),
        ...(command.needsNetwork ? ['needs network'] : []),
      ];
      lines.push(`    ${command.argv.map(quoted).join(' ')}  (${notes.join('; ')})`);
    }
  }

  const chosen = Object.entries(context.selection ?? {});
  if (chosen.length) {
    lines.push('', 'Selected:');
    for (const [kind, choice] of chosen) {
      if (!choice) continue;
      const where = choice.cwd ? ` (in ${visibleControls(choice.cwd)})` : '';
      lines.push(
        `  ${kind}: ${choice.argv.map(quoted).join(' ')}${where}`,
        `    because ${visibleControls(choice.reason)}`,
      );
    }
  }

  const skipped = context.skippedSteps ?? [];
  if (skipped.length) {
    lines.push('', `Seen but not run: ${skipped.length}`);
    for (const step of skipped.slice(0, LISTED)) {
      const what = step.uses ? `uses ${step.uses}` : (step.run ?? '');
      lines.push(
        `  ${visibleControls(what)}  (${visibleControls(step.declaredIn)}${step.line ? `:${step.line}` : ''}: ${visibleControls(step.reason)})`,
      );
    }
    lines.push(...more(skipped.length, LISTED));
  }

  if (context.testFolders) {
    const folders = context.testFolders;
    lines.push('', `Test folders: ${folders.length || 'none'}`);
    for (const folder of folders.slice(0, LISTED)) lines.push(`  ${visibleControls(folder)}`);
    lines.push(...more(folders.length, LISTED));
  }

  lines.push('', `Test links: ${context.testLinks.length}`);
  for (const link of context.testLinks.slice(0, EXAMPLES)) {
    lines.push(`  ${visibleControls(link.test)} -> ${visibleControls(link.source)}`);
  }
  lines.push(...more(context.testLinks.length, EXAMPLES));

  const ownersFile = context.codeOwnersPath ? ` (${visibleControls(context.codeOwnersPath)})` : '';
  lines.push(
    '',
    `Code owners: ${context.codeOwners.length ? `${context.codeOwners.length} rules` : 'none'}${ownersFile}`,
  );
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
