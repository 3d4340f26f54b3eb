import type { AgentContextFile } from '../domain/context.js';
import { digestRepositoryFile } from './repository-files.js';

/** File names written for agents and contributors, matched case-insensitively. */
export const AGENT_CONTEXT_NAMES: ReadonlySet<string> = new Set([
  'agents.md',
  'infrastructure.md',
  'claude.md',
  'contributing.md',
  'copilot-instructions.md',
  '.cursorrules',
]);

/** How many directories below the root an agent context file may sit (`packages/api/AGENTS.md`). */
export const AGENT_CONTEXT_MAX_DEPTH = 2;

/** Characters kept from each file; enough to inform a plan, small enough for any prompt. */
export const AGENT_CONTEXT_EXCERPT_LENGTH = 2_000;

/**
 * Finds the files written for agents (AGENTS.md, INFRASTRUCTURE.md, CLAUDE.md, CONTRIBUTING.md,
 * .github/copilot-instructions.md, .cursorrules) up to {@link AGENT_CONTEXT_MAX_DEPTH} directories
 * deep. Each is labelled `untrusted` with the sha256 of its bytes and an excerpt: whoever controls
 * the repository wrote it, so it may inform the agent but never instructs the runtime. Nothing
 * here interprets the contents.
 *
 * @example
 * const [agents] = await findAgentContextFiles(root, ['AGENTS.md', 'src/app.ts']);
 * // { path: 'AGENTS.md', trust: 'untrusted', sha256: '9f86...', excerpt: '# Agents\n...' }
 */
export async function findAgentContextFiles(
  root: string,
  files: readonly string[],
): Promise<AgentContextFile[]> {
  const found: AgentContextFile[] = [];
  for (const file of files) {
    const segments = file.split('/');
    const name = segments.at(-1)?.toLowerCase() ?? '';
    if (segments.length - 1 > AGENT_CONTEXT_MAX_DEPTH || !AGENT_CONTEXT_NAMES.has(name)) continue;
    // 4 bytes per character at most, so this always covers the excerpt.
    const digest = await digestRepositoryFile(root, file, AGENT_CONTEXT_EXCERPT_LENGTH * 4);
    if (!digest) continue;
    found.push({ path: file, trust: 'untrusted', sha256: digest.sha256, excerpt: excerptOf(digest.head) });
  }
  return found;
}

function excerptOf(text: string): string {
  let excerpt = text.slice(0, AGENT_CONTEXT_EXCERPT_LENGTH);
  // Never end on half of a surrogate pair.
  const last = excerpt.charCodeAt(excerpt.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) excerpt = excerpt.slice(0, -1);
  return excerpt;
}
