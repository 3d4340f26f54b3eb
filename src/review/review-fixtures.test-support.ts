import { EngineeringRequest } from '../domain/request.js';
import type { ReviewInput } from './review-input.js';
import type { DiffFile } from './unified-diff.js';

/** A request as intake stores it. */
export const request = EngineeringRequest.parse({
  id: 'req-1',
  source: 'file',
  repository: { name: 'billing-service' },
  requester: 'maria.lopez',
  title: 'Invoice total is wrong when the discount is zero',
  description: 'Customers with a 0% discount get 5%.',
  acceptanceCriteria: ['An invoice with discountPercent 0 gets no discount'],
  constraints: ['Do not change the public API'],
  receivedAt: '2026-01-01T00:00:00.000Z',
});

/** Lines 10–16 of the new invoice.js, with one logic change at line 13. */
export const invoiceChange: DiffFile = {
  path: 'src/invoice.js',
  status: 'modified',
  patch: [
    '@@ -10,7 +10,7 @@ export function total(invoice) {',
    '   const subtotal = sum(invoice.lines);',
    '   const rate = invoice.discountPercent;',
    '   // a discount of zero is a real value',
    '-  const discount = rate || 5;',
    '+  const discount = rate ?? 5;',
    '   return subtotal - (subtotal * discount) / 100;',
    ' }',
    ' ',
  ].join('\n'),
};

export const invoiceTest: DiffFile = {
  path: 'test/invoice.test.js',
  status: 'added',
  patch: [
    '@@ -0,0 +1,3 @@',
    "+import { total } from '../src/invoice.js';",
    '+test("zero", () => {});',
    '+',
  ].join('\n'),
};

/** A complete, in-scope review input: no check fires. */
export function reviewInput(fields: Partial<ReviewInput> = {}): ReviewInput {
  return {
    request,
    diff: [invoiceChange, invoiceTest],
    evidence: { completeness: 1, missing: [] },
    constraints: [{ constraint: 'Do not change the public API', honoured: true, how: 'compared exports' }],
    scopeViolations: [],
    sensitivePaths: ['infra/**', '.env', '**/*.pem'],
    ...fields,
  };
}
