import { z } from 'zod';

/** One file of a pull request's diff, as `git diff base..head` shows it. */
export const DiffFile = z.strictObject({
  /** Repository-relative path after the change (before it, for a deleted file). */
  path: z.string().min(1),
  status: z.enum(['added', 'modified', 'deleted', 'renamed']),
  /** The path before a rename. */
  previousPath: z.string().min(1).optional(),
  /** The file's hunks, from its first `@@` header; a binary file's one-line note instead. */
  patch: z.string(),
});
export type DiffFile = z.infer<typeof DiffFile>;

/** A range of lines, both ends included, numbered from 1. */
export interface LineRange {
  start: number;
  end: number;
}

const hunkHeader = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Splits the output of `git diff base..head` (unified, with `diff --git` headers) into one entry
 * per file. Paths git quotes (quotes, backslashes, non-ASCII) are unquoted; renames keep the old path.
 *
 * @example
 * const diff = parseUnifiedDiff(execFileSync('git', ['diff', 'main..feature'], { encoding: 'utf8' }));
 * // [{ path: 'src/invoice.js', status: 'modified', patch: '@@ -3,7 +3,7 @@ …' }]
 */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  const lines = text.split('\n');
  let index = 0;
  while (index < lines.length) {
    const header = lines[index] as string;
    if (!header.startsWith('diff --git ')) {
      index++;
      continue;
    }
    let end = index + 1;
    while (end < lines.length && !(lines[end] as string).startsWith('diff --git ')) end++;
    files.push(parseFileBlock(lines.slice(index, end)));
    index = end;
  }
  return files;
}

function parseFileBlock(block: string[]): DiffFile {
  let status: DiffFile['status'] = 'modified';
  let oldPath: string | undefined;
  let newPath: string | undefined;
  let renameFrom: string | undefined;
  let renameTo: string | undefined;
  let body: string[] = [];
  for (let i = 1; i < block.length; i++) {
    const line = block[i] as string;
    if (line.startsWith('@@')) {
      body = block.slice(i);
      break;
    }
    if (line.startsWith('new file mode')) status = 'added';
    else if (line.startsWith('deleted file mode')) status = 'deleted';
    else if (line.startsWith('rename from ')) renameFrom = unquote(line.slice('rename from '.length));
    else if (line.startsWith('rename to ')) renameTo = unquote(line.slice('rename to '.length));
    else if (line.startsWith('--- ')) oldPath = stripPrefix(unquote(line.slice(4).replace(/\t$/, '')), 'a/');
    else if (line.startsWith('+++ ')) newPath = stripPrefix(unquote(line.slice(4).replace(/\t$/, '')), 'b/');
    else if (line.startsWith('Binary files ')) body = [line];
  }
  // The trailing newline of the whole diff leaves an empty last line that belongs to no hunk.
  while (body.length && body.at(-1) === '') body.pop();
  const patch = body.join('\n');
  if (renameFrom !== undefined && renameTo !== undefined) {
    return { path: renameTo, status: 'renamed', previousPath: renameFrom, patch };
  }
  const fromHeader = pathsOfGitHeader(block[0] as string);
  const before = oldPath && oldPath !== '/dev/null' ? oldPath : fromHeader.before;
  const after = newPath && newPath !== '/dev/null' ? newPath : fromHeader.after;
  return { path: (status === 'deleted' ? before : after) ?? before ?? '', status, patch };
}

/** Paths from `diff --git a/x b/x`, used when a file has no `---`/`+++` lines (binary, mode-only). */
function pathsOfGitHeader(header: string): { before?: string; after?: string } {
  const rest = header.slice('diff --git '.length);
  if (rest.startsWith('"')) {
    const quoted = rest.match(/^("(?:[^"\\]|\\.)*") (.*)$/);
    if (!quoted) return {};
    return {
      before: stripPrefix(unquote(quoted[1] as string), 'a/'),
      after: stripPrefix(unquote(quoted[2] as string), 'b/'),
    };
  }
  // Unquoted and unrenamed: "a/P b/P", so the two halves have the same length.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ') {
    return { before: stripPrefix(rest.slice(0, half), 'a/'), after: stripPrefix(rest.slice(half + 1), 'b/') };
  }
  return {};
}

function stripPrefix(path: string, prefix: string): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

const escapes: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Undoes git's C-style quoting of a path, including octal escapes of UTF-8 bytes. */
function unquote(text: string): string {
  if (!(text.startsWith('"') && text.endsWith('"') && text.length >= 2)) return text;
  const bytes: number[] = [];
  const inner = text.slice(1, -1);
  for (let i = 0; i < inner.length; i++) {
    const char = inner[i] as string;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = inner[i + 1] ?? '';
    const octal = inner.slice(i + 1, i + 4);
    if (/^[0-7]{3}$/.test(octal)) {
      bytes.push(Number.parseInt(octal, 8));
      i += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The line ranges a file's hunks cover: in the new version of the file, or in the old one for a
 * deleted file. A hunk that only removes lines covers the line it removed them after (at least 1).
 *
 * @example
 * hunkRanges({ path: 'a.js', status: 'modified', patch: '@@ -3,2 +3,4 @@\n x\n+y' }); // [{ start: 3, end: 6 }]
 */
export function hunkRanges(file: DiffFile): LineRange[] {
  const ranges: LineRange[] = [];
  for (const line of file.patch.split('\n')) {
    const match = hunkHeader.exec(line);
    if (!match) continue;
    const [start, count] =
      file.status === 'deleted' ? [match[1], match[2] ?? '1'] : [match[3], match[4] ?? '1'];
    const first = Math.max(1, Number(start));
    ranges.push({ start: first, end: first + Math.max(1, Number(count)) - 1 });
  }
  return ranges;
}

/** The added and removed lines of a patch, without their `+`/`-` marks. */
export function changedLines(patch: string): string[] {
  const changed: string[] = [];
  let inHunk = false;
  for (const line of patch.split('\n')) {
    if (line.startsWith('@@')) inHunk = true;
    else if (inHunk && (line.startsWith('+') || line.startsWith('-'))) changed.push(line.slice(1));
  }
  return changed;
}
