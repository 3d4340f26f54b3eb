import { type ParserPlugin, parse } from '@babel/parser';
import type * as t from '@babel/types';
import { InvalidInputError } from '../domain/errors.js';

/**
 * A module's public surface: export name → normalised signature.
 *
 * The name is what an importer writes: `invoiceTotals`, `default`, `ns` for `export * as ns`, and
 * `* from './x'` for a star re-export. The signature leaves out the export name (so `export { a as
 * b }` and a renamed local keep the same signature) and every function body (so a body-only change
 * is not an API change). It keeps what a caller depends on: parameter count, names and optionality,
 * TypeScript type annotations, return types, type parameters, class members that are not private,
 * and the text of interfaces, type aliases and enums. Type text is rebuilt from tokens, so
 * formatting, comments, trailing separators and quote style do not count as changes.
 *
 * Values are not part of a signature: `export const RATE = 0.2` becomes `const`, whatever the number.
 */
export type ExportedApi = Map<string, string>;

/** How two versions of a module's public surface differ, by export name, each list sorted. */
export interface ApiComparison {
  removed: string[];
  added: string[];
  changed: string[];
}

const sourceFile = /\.(?:[cm]?[jt]s|[jt]sx)$/i;

/**
 * Whether the file is JavaScript or TypeScript source whose exports `exportedSymbols` can read.
 *
 * @example
 * isApiSourceFile('src/invoice.ts'); // true
 * isApiSourceFile('README.md'); // false
 */
export function isApiSourceFile(path: string): boolean {
  return sourceFile.test(path);
}

/**
 * Reads the exported symbols of one JavaScript or TypeScript module, with their signatures (see
 * {@link ExportedApi}). ES module exports are read in every file; CommonJS `module.exports` and
 * `exports.x` assignments in `.js`, `.jsx` and `.cjs` files.
 *
 * @throws InvalidInputError when the source does not parse, naming the file, line and column.
 * @example
 * exportedSymbols('export function total(lines: Line[]): number { return 0; }', 'src/total.ts');
 * // Map { 'total' => 'function(lines: Line[]): number' }
 */
export function exportedSymbols(source: string, filename: string): ExportedApi {
  const file = parseModule(source, filename);
  const reader = new ApiReader(source, file.tokens ?? []);
  const api = reader.exportsOf(file.program.body, { ambient: false });
  if (/\.(?:c?js|jsx)$/i.test(filename)) reader.addCommonJsExports(file.program.body, api);
  return api;
}

/**
 * Compares two public surfaces by export name.
 *
 * @example
 * compareApi(new Map([['a', 'function(x)']]), new Map([['a', 'function(x, y)'], ['b', 'const']]));
 * // { removed: [], added: ['b'], changed: ['a'] }
 */
export function compareApi(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): ApiComparison {
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const added = [...after.keys()].filter((name) => !before.has(name));
  const changed = [...before.keys()].filter(
    (name) => after.has(name) && after.get(name) !== before.get(name),
  );
  return { removed: removed.sort(), added: added.sort(), changed: changed.sort() };
}

function parseModule(source: string, filename: string): t.File {
  const typescript = /\.[cm]?tsx?$/i.test(filename);
  const jsx = /\.(?:jsx|tsx|js)$/i.test(filename);
  const plugins: ParserPlugin[] = [];
  if (typescript) plugins.push(['typescript', { dts: /\.d\.[cm]?ts$/i.test(filename) }]);
  if (jsx) plugins.push('jsx');
  // A .cjs file is a script; a .js file may be either, and says which by using import/export.
  const sourceType = /\.cjs$/i.test(filename)
    ? 'script'
    : /\.jsx?$/i.test(filename)
      ? 'unambiguous'
      : 'module';
  try {
    return parse(source, {
      sourceType,
      plugins,
      tokens: true,
      errorRecovery: false,
      allowReturnOutsideFunction: sourceType !== 'module',
      sourceFilename: filename,
    });
  } catch (error) {
    const loc = (error as { loc?: { line: number; column: number } }).loc;
    const where = loc ? `${filename}:${loc.line}:${loc.column + 1}` : filename;
    const reason = error instanceof Error ? error.message.replace(/\s*\(\d+:\d+\)$/, '') : String(error);
    throw new InvalidInputError(
      `${where} does not parse as ${typescript ? 'TypeScript' : 'JavaScript'}: ${reason}`,
      {
        input: filename,
        hint: 'fix the syntax error in this file so its exported symbols can be compared',
        cause: error,
      },
    );
  }
}

interface Token {
  start: number;
  end: number;
  type: string | { label: string };
  value?: unknown;
}

type AnyFunction =
  | t.FunctionDeclaration
  | t.FunctionExpression
  | t.ArrowFunctionExpression
  | t.TSDeclareFunction
  | t.ObjectMethod;

/** Reads signatures from one parsed file; token text is what makes type text formatting-insensitive. */
class ApiReader {
  private readonly tokens: Token[];

  constructor(
    private readonly source: string,
    tokens: readonly unknown[],
  ) {
    // Comments arrive as tokens with a string type, and the end-of-file token has no text; neither belongs in a signature.
    this.tokens = (tokens as Token[]).filter(
      (token) => typeof token.type !== 'string' && token.type.label !== 'eof',
    );
  }

  /** Exports declared by a list of statements: a module body, or a namespace body. */
  exportsOf(statements: readonly t.Statement[], { ambient }: { ambient: boolean }): ExportedApi {
    const locals = this.localsOf(statements);
    const api: ExportedApi = new Map();
    const add = (name: string, signature: string) => mergeInto(api, name, signature);
    for (const statement of statements) {
      switch (statement.type) {
        case 'ExportNamedDeclaration': {
          if (statement.declaration) {
            for (const [name, signature] of this.declared(statement.declaration)) add(name, signature);
          }
          const from = statement.source ? ` from '${statement.source.value}'` : '';
          for (const specifier of statement.specifiers) {
            const exported = nameOf(specifier.exported);
            if (specifier.type === 'ExportNamespaceSpecifier') add(exported, `*${from}`);
            else if (specifier.type === 'ExportDefaultSpecifier') add(exported, `default${from}`);
            else if (statement.source) add(exported, `${nameOf(specifier.local)}${from}`);
            else add(exported, locals.get(nameOf(specifier.local)) ?? `local ${nameOf(specifier.local)}`);
          }
          break;
        }
        case 'ExportDefaultDeclaration':
          add('default', this.valueSignature(statement.declaration, locals));
          break;
        case 'ExportAllDeclaration': {
          const name = `* from '${statement.source.value}'`;
          add(name, name);
          break;
        }
        case 'TSExportAssignment':
          add('export =', this.valueSignature(statement.expression, locals));
          break;
        case 'TSNamespaceExportDeclaration':
          add(`export as namespace ${statement.id.name}`, 'namespace');
          break;
        case 'TSImportEqualsDeclaration':
          if (statement.isExport) add(statement.id.name, `import = ${this.text(statement.moduleReference)}`);
          break;
        default:
          // Inside `declare namespace`, every declaration is visible from outside.
          if (ambient) for (const [name, signature] of this.declared(statement)) add(name, signature);
      }
    }
    return api;
  }

  /** `module.exports = …`, `module.exports.x = …` and `exports.x = …` at the top level of a script. */
  addCommonJsExports(statements: readonly t.Statement[], api: ExportedApi): void {
    const locals = this.localsOf(statements);
    for (const statement of statements) {
      if (statement.type !== 'ExpressionStatement') continue;
      const assignment = statement.expression;
      if (assignment.type !== 'AssignmentExpression' || assignment.operator !== '=') continue;
      const target = assignment.left;
      if (isModuleExports(target)) {
        if (assignment.right.type === 'ObjectExpression') {
          for (const [name, signature] of this.objectMembers(assignment.right, locals)) {
            mergeInto(api, name, signature);
          }
        } else {
          mergeInto(api, 'default', this.valueSignature(assignment.right, locals));
        }
      } else if (
        target.type === 'MemberExpression' &&
        (isModuleExports(target.object) || isIdentifier(target.object, 'exports'))
      ) {
        const name = propertyName(target);
        if (name !== undefined) mergeInto(api, name, this.valueSignature(assignment.right, locals));
      }
    }
  }

  /** Top-level names and their signatures, so `export { a }`, `export default a` and CommonJS resolve. */
  private localsOf(statements: readonly t.Statement[]): Map<string, string> {
    const locals = new Map<string, string>();
    for (const statement of statements) {
      const declaration =
        (statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration') &&
        statement.declaration
          ? statement.declaration
          : statement;
      if (declaration.type === 'ImportDeclaration') {
        const from = `'${declaration.source.value}'`;
        for (const specifier of declaration.specifiers) {
          const imported =
            specifier.type === 'ImportSpecifier'
              ? nameOf(specifier.imported)
              : specifier.type === 'ImportDefaultSpecifier'
                ? 'default'
                : '*';
          locals.set(specifier.local.name, `import ${imported} from ${from}`);
        }
        continue;
      }
      for (const [name, signature] of this.declared(declaration)) mergeInto(locals, name, signature);
    }
    return locals;
  }

  /** Names a declaration binds, each with its signature; nothing for statements that declare nothing. */
  private declared(node: t.Node): Array<[string, string]> {
    switch (node.type) {
      case 'VariableDeclaration':
        return node.declarations.flatMap((declarator) => this.variable(node.kind, declarator));
      case 'FunctionDeclaration':
      case 'TSDeclareFunction':
      case 'ClassDeclaration':
      case 'TSInterfaceDeclaration':
      case 'TSTypeAliasDeclaration':
      case 'TSEnumDeclaration':
        return node.id ? [[node.id.name, this.declarationSignature(node)]] : [];
      case 'TSModuleDeclaration':
        return node.id.type === 'Identifier' ? [[node.id.name, this.declarationSignature(node)]] : [];
      default:
        return [];
    }
  }

  private variable(kind: string, declarator: t.VariableDeclarator): Array<[string, string]> {
    if (declarator.id.type !== 'Identifier') {
      return bindingNames(declarator.id).map((name) => [name, kind]);
    }
    const init = declarator.init ? unwrap(declarator.init) : undefined;
    if (init && isFunction(init)) return [[declarator.id.name, this.functionSignature(init)]];
    if (init && init.type === 'ClassExpression') return [[declarator.id.name, this.classSignature(init)]];
    const annotation = declarator.id.typeAnnotation;
    return [[declarator.id.name, annotation ? `${kind}${this.annotation(annotation)}` : kind]];
  }

  private declarationSignature(node: t.Node): string {
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
      case 'TSDeclareFunction':
        return this.functionSignature(node);
      case 'ClassDeclaration':
      case 'ClassExpression':
        return this.classSignature(node);
      case 'TSInterfaceDeclaration': {
        const heritage = node.extends?.length
          ? ` extends ${node.extends.map((h) => this.text(h)).join(', ')}`
          : '';
        return `interface${this.typeParameters(node.typeParameters)}${heritage} ${this.text(node.body)}`;
      }
      case 'TSTypeAliasDeclaration':
        return `type${this.typeParameters(node.typeParameters)} = ${this.text(node.typeAnnotation)}`;
      case 'TSEnumDeclaration': {
        const members = (node.members ?? []).map(
          (member) =>
            `${nameOf(member.id)}${member.initializer ? ` = ${this.text(member.initializer)}` : ''}`,
        );
        return `${node.const ? 'const ' : ''}enum { ${members.join('; ')} }`;
      }
      case 'TSModuleDeclaration':
        return this.namespaceSignature(node);
      default:
        return this.text(node);
    }
  }

  private namespaceSignature(node: t.TSModuleDeclaration): string {
    const body = node.body;
    if (body.type === 'TSModuleDeclaration')
      return `namespace { ${body.id.type === 'Identifier' ? body.id.name : ''}: ${this.namespaceSignature(body)} }`;
    const inner = this.exportsOf(body.body, { ambient: Boolean(node.declare) });
    const members = [...inner].sort(([a], [b]) => a.localeCompare(b)).map(([name, sig]) => `${name}: ${sig}`);
    return `namespace { ${members.join('; ')} }`;
  }

  /** What an exported value looks like from outside: a function or class shape, a resolved local, or just `value`. */
  private valueSignature(node: t.Node, locals: ReadonlyMap<string, string>): string {
    const value = unwrap(node);
    if (isFunction(value) || value.type === 'ClassDeclaration' || value.type === 'ClassExpression') {
      return this.declarationSignature(value);
    }
    if (value.type === 'TSInterfaceDeclaration') return this.declarationSignature(value);
    if (value.type === 'Identifier') return locals.get(value.name) ?? `global ${value.name}`;
    if (value.type === 'ObjectExpression') {
      const members = [...this.objectMembers(value, locals)].map(([name, sig]) => `${name}: ${sig}`);
      return `object { ${members.sort().join('; ')} }`;
    }
    if (value.type === 'CallExpression' && isIdentifier(value.callee, 'require')) return this.text(value);
    return 'value';
  }

  private objectMembers(
    object: t.ObjectExpression,
    locals: ReadonlyMap<string, string>,
  ): Map<string, string> {
    const members = new Map<string, string>();
    for (const property of object.properties) {
      if (property.type === 'SpreadElement') {
        members.set(`...${this.text(property.argument)}`, this.valueSignature(property.argument, locals));
        continue;
      }
      const name = property.computed ? `[${this.text(property.key)}]` : keyName(property.key);
      if (property.type === 'ObjectMethod') {
        const accessor = property.kind === 'get' || property.kind === 'set' ? `${property.kind} ` : '';
        members.set(name, `${accessor}${this.functionSignature(property)}`);
      } else {
        members.set(name, this.valueSignature(property.value, locals));
      }
    }
    return members;
  }

  private functionSignature(node: AnyFunction | t.ClassMethod | t.TSDeclareMethod): string {
    const prefix = `${node.async ? 'async ' : ''}function${node.generator ? '*' : ''}`;
    const params = node.params.map((param) => this.parameter(param)).join(', ');
    const returns = node.returnType ? this.annotation(node.returnType) : '';
    return `${prefix}${this.typeParameters(node.typeParameters)}(${params})${returns}`;
  }

  /** A parameter as a caller sees it: its name, whether it may be left out, and its type; never its default value. */
  private parameter(param: t.Node): string {
    switch (param.type) {
      case 'Identifier':
        return `${param.name}${param.optional ? '?' : ''}${this.annotation(param.typeAnnotation)}`;
      case 'AssignmentPattern': {
        const left = this.parameter(param.left);
        return left.includes('?') ? left : left.replace(/^([^:]*)/, '$1?');
      }
      case 'RestElement':
        return `...${this.parameter(param.argument)}${this.annotation(param.typeAnnotation)}`;
      case 'ObjectPattern': {
        const keys = param.properties.map((property) => {
          if (property.type === 'RestElement') return `...${this.parameter(property.argument)}`;
          const key = property.computed ? `[${this.text(property.key)}]` : keyName(property.key);
          return property.value.type === 'AssignmentPattern' ? `${key}?` : key;
        });
        return `{ ${keys.join(', ')} }${param.optional ? '?' : ''}${this.annotation(param.typeAnnotation)}`;
      }
      case 'ArrayPattern':
        return `[${param.elements.map((element) => (element ? this.parameter(element) : '')).join(', ')}]${this.annotation(param.typeAnnotation)}`;
      case 'TSParameterProperty':
        return `${param.readonly ? 'readonly ' : ''}${this.parameter(param.parameter)}`;
      default:
        return this.text(param);
    }
  }

  private classSignature(node: t.ClassDeclaration | t.ClassExpression): string {
    const abstract = 'abstract' in node && node.abstract ? 'abstract ' : '';
    const superClass = node.superClass
      ? ` extends ${this.text(node.superClass)}${this.typeParameters(node.superTypeParameters)}`
      : '';
    const implemented = node.implements?.length
      ? ` implements ${node.implements.map((i) => this.text(i)).join(', ')}`
      : '';
    const members = node.body.body
      .map((member) => this.classMember(member))
      .filter((member): member is string => member !== undefined)
      .sort();
    return `${abstract}class${this.typeParameters(node.typeParameters)}${superClass}${implemented} ${members.length ? `{ ${members.join('; ')} }` : '{}'}`;
  }

  /** A member callers or subclasses can reach; private ones and static blocks are implementation. */
  private classMember(member: t.ClassBody['body'][number]): string | undefined {
    if (member.type === 'TSIndexSignature') return this.text(member);
    if (
      member.type !== 'ClassMethod' &&
      member.type !== 'TSDeclareMethod' &&
      member.type !== 'ClassProperty' &&
      member.type !== 'ClassAccessorProperty'
    ) {
      return undefined;
    }
    if (member.accessibility === 'private' || member.key.type === 'PrivateName') return undefined;
    const modifiers = [
      member.accessibility === 'protected' ? 'protected' : '',
      member.static ? 'static' : '',
      member.abstract ? 'abstract' : '',
      'readonly' in member && member.readonly ? 'readonly' : '',
      member.type === 'ClassAccessorProperty' ? 'accessor' : '',
    ]
      .filter(Boolean)
      .map((modifier) => `${modifier} `)
      .join('');
    const key = member.computed ? `[${this.text(member.key)}]` : keyName(member.key);
    const optional = member.optional ? '?' : '';
    if (member.type === 'ClassMethod' || member.type === 'TSDeclareMethod') {
      const accessor = member.kind === 'get' || member.kind === 'set' ? `${member.kind} ` : '';
      return `${modifiers}${accessor}${key}${optional}${this.functionSignature(member).replace(/^(async )?function/, '$1')}`;
    }
    const value = member.value ? unwrap(member.value) : undefined;
    if (value && isFunction(value)) return `${modifiers}${key}${optional} = ${this.functionSignature(value)}`;
    return `${modifiers}${key}${optional}${this.annotation(member.typeAnnotation)}`;
  }

  private typeParameters(node: t.Node | null | undefined): string {
    return node ? this.text(node) : '';
  }

  private annotation(node: t.Node | null | undefined): string {
    if (!node || node.type === 'Noop') return '';
    // A TSTypeAnnotation's text starts with its own colon.
    const text = this.text(node);
    return text.startsWith(':') ? `: ${text.slice(1).trimStart()}` : `: ${text}`;
  }

  /** The node's tokens joined with canonical spacing: equal for any two formattings of the same code. */
  private text(node: t.Node): string {
    const start = node.start ?? 0;
    const end = node.end ?? start;
    const parts: string[] = [];
    for (let i = firstTokenAt(this.tokens, start); i < this.tokens.length; i++) {
      const token = this.tokens[i];
      if (!token || token.end > end) break;
      parts.push(this.tokenText(token));
    }
    return joinTokens(dropTrailingSeparators(unifyMemberSeparators(parts)));
  }

  private tokenText(token: Token): string {
    if (typeof token.type !== 'string' && token.type.label === 'string' && typeof token.value === 'string') {
      return `'${token.value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
    }
    return this.source.slice(token.start, token.end);
  }
}

function firstTokenAt(tokens: readonly Token[], position: number): number {
  let low = 0;
  let high = tokens.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((tokens[middle]?.start ?? 0) < position) low = middle + 1;
    else high = middle;
  }
  return low;
}

const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{', '>': '<' };

/** Type members may be separated by `,` or `;`; directly inside braces both mean the same. */
function unifyMemberSeparators(parts: readonly string[]): string[] {
  const open: string[] = [];
  return parts.map((part) => {
    if (part === '(' || part === '[' || part === '{' || part === '${' || part === '<') open.push(part);
    else if (part in closing) {
      if (open.at(-1) === closing[part] || (part === '}' && open.at(-1) === '${')) open.pop();
    } else if (part === ',' && open.at(-1) === '{') return ';';
    return part;
  });
}

/** A trailing `,` or `;` before a closing bracket is formatting, not meaning. */
function dropTrailingSeparators(parts: readonly string[]): string[] {
  return parts.filter(
    (part, i) =>
      !((part === ',' || part === ';') && (i === parts.length - 1 || /^[)\]}>]$/.test(parts[i + 1] ?? ''))),
  );
}

const noSpaceAfter = new Set(['(', '[', '.', '...', '?.', '@', '<', '#']);
const noSpaceBefore = new Set([')', ']', ',', ';', ':', '.', '?.', '>', '?', '!']);

/** Readable, deterministic spacing; both sides of a comparison go through the same rules. */
function joinTokens(parts: readonly string[]): string {
  let out = '';
  let previous = '';
  for (const part of parts) {
    const glued =
      out === '' ||
      noSpaceAfter.has(previous) ||
      noSpaceBefore.has(part) ||
      ((part === '(' || part === '[' || part === '<') && /[\w$)\]>?]$/.test(previous));
    out += glued ? part : ` ${part}`;
    previous = part;
  }
  return out;
}

function mergeInto(map: Map<string, string>, name: string, signature: string): void {
  // Overloads and declaration merging give one name several declarations; all of them are its API.
  const existing = map.get(name);
  map.set(name, existing === undefined ? signature : `${existing} + ${signature}`);
}

function unwrap(node: t.Node): t.Node {
  let current = node;
  while (
    current.type === 'TSAsExpression' ||
    current.type === 'TSSatisfiesExpression' ||
    current.type === 'TSNonNullExpression' ||
    current.type === 'ParenthesizedExpression'
  ) {
    current = current.expression;
  }
  return current;
}

function isFunction(
  node: t.Node,
): node is t.FunctionDeclaration | t.FunctionExpression | t.ArrowFunctionExpression | t.TSDeclareFunction {
  return (
    node.type === 'FunctionDeclaration' ||
    node.type === 'FunctionExpression' ||
    node.type === 'ArrowFunctionExpression' ||
    node.type === 'TSDeclareFunction'
  );
}

function isIdentifier(node: t.Node, name: string): boolean {
  return node.type === 'Identifier' && node.name === name;
}

function isModuleExports(node: t.Node): boolean {
  return (
    node.type === 'MemberExpression' &&
    isIdentifier(node.object, 'module') &&
    propertyName(node) === 'exports'
  );
}

function propertyName(node: t.MemberExpression): string | undefined {
  if (!node.computed && node.property.type === 'Identifier') return node.property.name;
  if (node.property.type === 'StringLiteral') return node.property.value;
  return undefined;
}

function nameOf(node: t.Identifier | t.StringLiteral): string {
  return node.type === 'Identifier' ? node.name : node.value;
}

function keyName(node: t.Node): string {
  switch (node.type) {
    case 'Identifier':
      return node.name;
    case 'StringLiteral':
      return node.value;
    case 'NumericLiteral':
      return String(node.value);
    case 'PrivateName':
      return `#${node.id.name}`;
    default:
      return '[computed]';
  }
}

function bindingNames(pattern: t.Node): string[] {
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name];
    case 'ObjectPattern':
      return pattern.properties.flatMap((property) =>
        property.type === 'RestElement' ? bindingNames(property.argument) : bindingNames(property.value),
      );
    case 'ArrayPattern':
      return pattern.elements.flatMap((element) => (element ? bindingNames(element) : []));
    case 'AssignmentPattern':
      return bindingNames(pattern.left);
    case 'RestElement':
      return bindingNames(pattern.argument);
    default:
      return [];
  }
}
