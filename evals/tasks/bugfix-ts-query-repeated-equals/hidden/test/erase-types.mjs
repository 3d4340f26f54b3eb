// The acceptance checkout has no node_modules (it runs offline, without the setup phase), so there is
// no tsc to compile the library. This module hook erases the small subset of TypeScript syntax a
// plain library module uses (type aliases, annotations on declarations, parameters and return types,
// `type` specifiers, `as` casts) so node can import src/*.ts directly.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const TYPE = String.raw`[A-Za-z_$][\w$.]*(?:<[^;{}()]*?>)?(?:\[\])*(?:\s*\|\s*(?:[A-Za-z_$][\w$.]*(?:<[^;{}()]*?>)?(?:\[\])*|'[^']*'|"[^"]*"))*`;

/** What an `as` cast names: a capitalised type, a primitive, or const. */
const CAST = String.raw`(?:[A-Z][\w$.]*(?:<[^;{}()]*?>)?|string|number|boolean|unknown)(?:\[\])*`;

function eraseParameters(list) {
  return list.replace(new RegExp(String.raw`([\w$]+)\??\s*:\s*${TYPE}`, 'g'), '$1');
}

export function eraseTypes(source) {
  return source
    .replace(/^\s*(?:export\s+)?type\s+[\w$]+(?:<[^>]*>)?\s*=[^;]*;\s*$/gm, '')
    .replace(/^\s*(?:export\s+)?interface\s+[\w$]+[^{]*\{[^}]*\}\s*$/gm, '')
    .replace(/\b(import|export)\s+type\s+\{[^}]*\}\s+from\s+['"][^'"]+['"];?/g, '')
    .replace(/,\s*type\s+[\w$]+(?=\s*[,}])/g, '')
    .replace(/\{\s*type\s+[\w$]+\s*,/g, '{')
    .replace(/(\bfunction\b[^(]*|=\s*(?:async\s*)?)\(([^()]*)\)/g, (_, head, list) => `${head}(${eraseParameters(list)})`)
    .replace(new RegExp(String.raw`\)\s*:\s*${TYPE}\s*(\{|=>)`, 'g'), ') $1')
    .replace(new RegExp(String.raw`\b(const|let|var)\s+([\w$]+)\s*:\s*${TYPE}\s*=`, 'g'), '$1 $2 =')
    .replace(new RegExp(String.raw`([\w$)\]])\s+as\s+(?:const|${CAST})(?=[\s,;)\]}])`, 'g'), '$1');
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(fileURLToPath(url), 'utf8');
  return { format: 'module', source: eraseTypes(source), shortCircuit: true };
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    // Sources import each other as './x.js', as NodeNext wants; the file on disk is x.ts.
    if (specifier.endsWith('.js')) return nextResolve(specifier.replace(/\.js$/, '.ts'), context);
    throw error;
  }
}
