import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { compareApi, exportedSymbols, isApiSourceFile } from './public-api.js';

const namesOf = (source: string, filename = 'src/module.ts') =>
  [...exportedSymbols(source, filename).keys()].sort();

describe('exported symbols of an ES module', () => {
  it('reads every named declaration form', () => {
    const source = `
      export function total() {}
      export class Invoice {}
      export const RATE = 0.2, LIMIT = 10;
      export let counter = 0;
      export var legacy = 1;
      export const { left, right: [first] } = pair;
      function hidden() {}
    `;

    const names = namesOf(source, 'src/module.js');

    expect(names).toEqual(['Invoice', 'LIMIT', 'RATE', 'counter', 'first', 'left', 'legacy', 'total']);
  });

  it('reads TypeScript enums, interfaces, types and namespaces, and what a namespace exports', () => {
    const source = `
      export enum Status { Draft = 'draft', Paid = 'paid' }
      export interface Line { unitPriceCents: number; quantity: number }
      export type Currency = 'EUR' | 'USD';
      export namespace Money { export function round(cents: number): number { return cents } const internal = 1; }
      export declare function declared(x: string): void;
    `;

    const api = exportedSymbols(source, 'src/money.ts');

    expect([...api.keys()].sort()).toEqual(['Currency', 'Line', 'Money', 'Status', 'declared']);
    expect(api.get('Status')).toBe("enum { Draft = 'draft'; Paid = 'paid' }");
    expect(api.get('Line')).toBe('interface { unitPriceCents: number; quantity: number }');
    expect(api.get('Currency')).toBe("type = 'EUR' | 'USD'");
    expect(api.get('Money')).toBe('namespace { round: function(cents: number): number }');
  });

  it('names default, aliased, namespace and star exports as an importer sees them', () => {
    const source = `
      import { roundCents as round } from './money.js';
      const a = 1;
      function b(x) {}
      export { a, b as c, round };
      export * as ns from './ns.js';
      export * from './all.js';
      export { default as Other } from './other.js';
      export default function (invoice) {}
    `;

    const api = exportedSymbols(source, 'src/index.js');

    expect([...api.keys()].sort()).toEqual([
      "* from './all.js'",
      'Other',
      'a',
      'c',
      'default',
      'ns',
      'round',
    ]);
    expect(api.get('c')).toBe('function(x)');
    expect(api.get('round')).toBe("import roundCents from './money.js'");
    expect(api.get('default')).toBe('function(invoice)');
  });

  it('resolves `export default name` and `export { name }` to the local declaration', () => {
    const source =
      'function invoiceTotals(invoice: Invoice): Totals { return x; }\nexport default invoiceTotals;';

    const api = exportedSymbols(source, 'src/invoice.ts');

    expect(api.get('default')).toBe('function(invoice: Invoice): Totals');
  });

  it('reads JSX files', () => {
    const api = exportedSymbols('export const Badge = ({ label }) => <span>{label}</span>;', 'src/badge.jsx');

    expect(api.get('Badge')).toBe('function({ label })');
  });
});

describe('signatures', () => {
  it('keep parameters, optionality, types, type parameters and return types, never bodies or defaults', () => {
    const source =
      'export async function f<T>(a: T, b = 3, { c, d = 1 }: Opts = {}, ...rest: string[]): Promise<T> { return a; }';

    expect(exportedSymbols(source, 'src/f.ts').get('f')).toBe(
      'async function<T>(a: T, b?, { c, d? }: Opts, ...rest: string[]): Promise<T>',
    );
  });

  it('treat an arrow function in a const like a function declaration', () => {
    const declared = exportedSymbols('export function f(a: number): string { return "" }', 'a.ts');
    const arrow = exportedSymbols('export const f = (a: number): string => "";', 'a.ts');

    expect(arrow.get('f')).toBe(declared.get('f'));
  });

  it('keep the public and protected members of a class, not private ones or method bodies', () => {
    const source = `export class Ledger extends Base<Entry> {
      private cache = new Map();
      #secret = 1;
      protected audit(entry: Entry): void { log(entry); }
      static open(path: string): Ledger { return new Ledger(path); }
      constructor(public readonly path: string, private size?: number) { super(); }
      get size(): number { return 1 }
      balance?: number;
    }`;

    expect(exportedSymbols(source, 'src/ledger.ts').get('Ledger')).toBe(
      'class extends Base<Entry> { balance?: number; constructor(readonly path: string, size?: number); get size(): number; protected audit(entry: Entry): void; static open(path: string): Ledger }',
    );
  });

  it('do not change when only formatting, comments or quote style change', () => {
    const before = `export interface Options { mode: 'a' | 'b'; retries?: number }
      export function run(options: Options, cb: (err: Error) => void): Promise<void> {}`;
    const after = `export interface Options {
        // which mode
        mode: "a" | "b",
        retries?: number,
      }
      export function run(
        options: Options, /* callback */ cb: (err: Error)=>void,
      ): Promise< void > {}`;

    const difference = compareApi(exportedSymbols(before, 'a.ts'), exportedSymbols(after, 'a.ts'));

    expect(difference).toEqual({ removed: [], added: [], changed: [] });
  });

  it('change when a parameter, a type annotation, a return type or an interface member changes', () => {
    const before = exportedSymbols(
      `export function totals(invoice: Invoice): Totals {}
       export function pay(id: string) {}
       export function refund(id: string): void {}
       export interface Invoice { lines: Line[] }
       export type Id = string;`,
      'a.ts',
    );
    const after = exportedSymbols(
      `export function totals(invoice: Invoice, currency: string): Totals {}
       export function pay(id: number) {}
       export function refund(id: string): boolean {}
       export interface Invoice { lines: Line[]; paid: boolean }
       export type Id = number;`,
      'a.ts',
    );

    expect(compareApi(before, after)).toEqual({
      removed: [],
      added: [],
      changed: ['Id', 'Invoice', 'pay', 'refund', 'totals'],
    });
  });

  it('join overloads so that removing one is a change', () => {
    const withTwo = exportedSymbols(
      'export function f(a: string): string;\nexport function f(a: number): number;\nexport function f(a: any) { return a; }',
      'a.ts',
    );
    const withOne = exportedSymbols(
      'export function f(a: string): string;\nexport function f(a: any) { return a; }',
      'a.ts',
    );

    expect(compareApi(withTwo, withOne).changed).toEqual(['f']);
  });
});

describe('CommonJS exports', () => {
  it('reads module.exports objects and exports.x assignments, resolving local functions', () => {
    const source = `
      const invoiceTotals = (invoice) => invoice;
      function roundCents(value, places) {}
      module.exports = { invoiceTotals, roundCents, RATE: 0.2, format(value) {} };
      exports.VERSION = '1.0';
      module.exports.parse = function (text) {};
    `;

    const api = exportedSymbols(source, 'src/invoice.cjs');

    expect([...api.keys()].sort()).toEqual([
      'RATE',
      'VERSION',
      'format',
      'invoiceTotals',
      'parse',
      'roundCents',
    ]);
    expect(api.get('roundCents')).toBe('function(value, places)');
    expect(api.get('format')).toBe('function(value)');
  });

  it('reads `module.exports = fn` as the default export of a .js script', () => {
    const api = exportedSymbols('module.exports = function total(lines, tax) {};', 'src/total.js');

    expect(api).toEqual(new Map([['default', 'function(lines, tax)']]));
  });

  it('ignores CommonJS-looking assignments in TypeScript, where they are not how modules export', () => {
    expect(namesOf('declare const module: any; module.exports = { a: 1 };', 'src/a.ts')).toEqual([]);
  });
});

describe('source that does not parse', () => {
  it('is an InvalidInputError naming the file, line and column', () => {
    const read = () => exportedSymbols('export function broken( {\n}', 'src/broken.ts');

    expect(read).toThrow(InvalidInputError);
    expect(read).toThrow(/^src\/broken\.ts:\d+:\d+ does not parse as TypeScript: /);
    try {
      read();
    } catch (error) {
      expect((error as InvalidInputError).input).toBe('src/broken.ts');
    }
  });

  it('rejects TypeScript syntax in a JavaScript file rather than guessing', () => {
    expect(() => exportedSymbols('export function f(a: number) {}', 'src/f.js')).toThrow(
      /does not parse as JavaScript/,
    );
  });
});

describe('compareApi', () => {
  it('lists removed, added and changed names, sorted', () => {
    const before = new Map([
      ['b', 'function(x)'],
      ['a', 'const'],
      ['gone', 'class {  }'],
    ]);
    const after = new Map([
      ['b', 'function(x, y)'],
      ['a', 'const'],
      ['z', 'const'],
      ['new', 'const'],
    ]);

    expect(compareApi(before, after)).toEqual({ removed: ['gone'], added: ['new', 'z'], changed: ['b'] });
  });
});

describe('isApiSourceFile', () => {
  it('accepts JavaScript and TypeScript modules only', () => {
    const files = [
      'a.ts',
      'a.tsx',
      'a.mts',
      'a.cts',
      'a.js',
      'a.jsx',
      'a.mjs',
      'a.cjs',
      'a.d.ts',
      'a.json',
      'a.md',
      'a.py',
    ];

    expect(files.filter(isApiSourceFile)).toEqual(files.slice(0, 9));
  });
});
