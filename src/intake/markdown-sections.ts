/**
 * Reads the list items of a named section in a markdown text (an issue body).
 * A section starts at a heading whose text is `heading` (any ATX level, a setext heading, or a
 * line that is only bold text), compared case-insensitively and ignoring a trailing colon; it ends
 * at the next heading. Each bullet, numbered or checkbox item is one entry; indented lines that
 * continue an item are joined to it.
 *
 * @example
 * listItemsUnderHeading('## Acceptance criteria\n- [ ] totals add up\n1. no rounding drift', 'Acceptance criteria');
 * // ['totals add up', 'no rounding drift']
 */
export function listItemsUnderHeading(markdown: string | null | undefined, heading: string): string[] {
  if (!markdown) return [];
  const lines = markdown.split(/\r?\n/);
  const wanted = normaliseHeading(heading);
  const items: string[] = [];
  let inSection = false;
  let inFence = false;

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;

    const headingText = headingAt(lines, index);
    if (headingText !== undefined) {
      inSection = normaliseHeading(headingText) === wanted;
      if (isSetextHeading(lines, index)) index++;
      continue;
    }
    if (!inSection) continue;

    const item = /^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*\S)\s*$/.exec(line);
    if (item?.[1]) {
      items.push(item[1]);
      continue;
    }
    const continuation = /^\s+(\S.*?)\s*$/.exec(line);
    if (continuation?.[1] && items.length > 0) {
      items[items.length - 1] = `${items[items.length - 1]} ${continuation[1]}`;
    }
  }
  return items.filter((item) => item.length > 0);
}

function headingAt(lines: string[], index: number): string | undefined {
  const line = lines[index] ?? '';
  const atx = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
  if (atx) return atx[1] ?? '';
  const bold = /^\s{0,3}(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*$/.exec(line);
  if (bold) return bold[1] ?? '';
  if (isSetextHeading(lines, index)) return line.trim();
  return undefined;
}

function isSetextHeading(lines: string[], index: number): boolean {
  const line = lines[index] ?? '';
  const next = lines[index + 1];
  // A dash underline under a list item is a list, not a heading.
  return (
    next !== undefined &&
    line.trim().length > 0 &&
    !/^\s*(?:[-*+]|\d+[.)])\s/.test(line) &&
    /^\s{0,3}(=+|-+)\s*$/.test(next)
  );
}

function normaliseHeading(text: string): string {
  return text.trim().replace(/:$/, '').replace(/\s+/g, ' ').toLowerCase();
}
