/** Every branch Gantry pushes lives under this prefix; the forge refuses to push anything else. */
export const GANTRY_BRANCH_PREFIX = 'gantry/';

const MAX_SLUG_LENGTH = 40;
const FALLBACK_SLUG = 'change';

/**
 * The branch a run pushes its change to: `gantry/<runId>-<slug>`, where the slug is the
 * lower-case ASCII words of the title joined by `-`, at most 40 characters and never empty.
 * The result is always a valid git branch name, whatever the (untrusted) title holds.
 *
 * @example
 * branchNameFor('01J9Z3', 'Fix: rounding of VAT in invoices'); // 'gantry/01J9Z3-fix-rounding-of-vat-in-invoices'
 * branchNameFor('01J9Z3', '!!!'); // 'gantry/01J9Z3-change'
 */
export function branchNameFor(runId: string, title: string): string {
  return `${GANTRY_BRANCH_PREFIX}${refComponent(runId) || 'run'}-${slugOf(title)}`;
}

function slugOf(title: string): string {
  const words = asciiWords(title.toLowerCase());
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > MAX_SLUG_LENGTH) {
      // A first word longer than the limit is cut rather than dropped, so the slug still says something.
      if (!slug) slug = word.slice(0, MAX_SLUG_LENGTH);
      break;
    }
    slug = next;
  }
  return slug || FALLBACK_SLUG;
}

function asciiWords(text: string): string[] {
  // NFKD splits accented letters into letter + combining mark, so 'é' keeps its 'e'.
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

/** Keeps the characters of a run id that are safe in one ref path component. */
function refComponent(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}
