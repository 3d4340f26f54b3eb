import { appendFile, cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const billingExample = fileURLToPath(new URL('../../examples/billing-service', import.meta.url));

const request = {
  title: 'Invoice total is wrong when the discount is zero',
  requester: 'maria.lopez',
  capability: 'low-risk-bugfix',
  repository: { name: 'billing-service', path: './repo' },
  description:
    'Customers with a negotiated discount of 0% are billed as if they had the 5% loyalty discount. The totals are computed in src/invoice.js.',
  acceptanceCriteria: [
    'An invoice with discountPercent 0 gets no discount',
    'The existing tests keep passing',
  ],
  constraints: ['Do not change dependencies'],
};

const hiddenAcceptance = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invoiceTotals } from './src/invoice.js';

test('a zero discount is no discount', () => {
  const lines = [{ sku: 'PLAN-PRO', unitPriceCents: 4900, quantity: 2 }];
  assert.equal(invoiceTotals({ lines, discountPercent: 0 }).discount, 0);
});
`;

export interface FixtureCase {
  id: string;
  kind?: string;
  expect: Record<string, unknown>;
  env?: Record<string, string>;
  /** Text appended to a fixture file (repository-relative), e.g. a planted canary. */
  plant?: { file: string; text: string };
  acceptance?: boolean;
  /** More case.yaml fields (plant, plantProcess). */
  extra?: Record<string, unknown>;
}

/** Writes one case of the billing example into `<suiteDir>/<id>/`: repo, request, hidden test, case.yaml. */
export async function writeBillingCase(suiteDir: string, fixture: FixtureCase): Promise<string> {
  const dir = join(suiteDir, fixture.id);
  await mkdir(dir, { recursive: true });
  await cp(billingExample, join(dir, 'repo'), {
    recursive: true,
    filter: (source) => !/(request|cassette)\.yaml$/.test(source) && !source.includes('node_modules'),
  });
  if (fixture.plant) await appendFile(join(dir, 'repo', fixture.plant.file), fixture.plant.text);
  await cp(join(billingExample, 'cassette.yaml'), join(dir, 'cassette.yaml'));
  await writeFile(join(dir, 'request.yaml'), YAML.stringify(request));
  if (fixture.acceptance) {
    await mkdir(join(dir, 'hidden'), { recursive: true });
    await writeFile(join(dir, 'hidden', 'hidden-acceptance.test.js'), hiddenAcceptance);
  }
  const evalCase = {
    id: fixture.id,
    kind: fixture.kind ?? 'bugfix',
    language: 'javascript',
    description: `billing example: ${fixture.id}`,
    request: 'request.yaml',
    cassette: 'cassette.yaml',
    ...(fixture.acceptance
      ? { acceptance: { files: 'hidden', argv: ['node', '--test', 'hidden-acceptance.test.js'] } }
      : {}),
    expect: fixture.expect,
    env: fixture.env ?? {},
    ...fixture.extra,
  };
  await writeFile(join(dir, 'case.yaml'), YAML.stringify(evalCase));
  return dir;
}
