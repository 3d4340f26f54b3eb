import { describe, expect, it } from 'vitest';
import { linkTestsToSources } from './test-links.js';

describe('linkTestsToSources', () => {
  it('links TypeScript and JavaScript tests, preferring the same directory, then src/, then lib/', () => {
    // Prepare
    const files = [
      'lib/format.js',
      'packages/a/cart.ts',
      'src/cart.ts',
      'src/cart.test.ts',
      'src/format.js',
      'src/widgets/__tests__/button.jsx',
      'src/widgets/button.tsx',
      'test/format.spec.js',
      'test/parse.test.js',
      'lib/parse.js',
      'src/types.d.ts',
      'test/types.test.ts',
    ];

    // Act
    const links = linkTestsToSources(files);

    // Assess
    expect(links).toEqual([
      { test: 'src/cart.test.ts', source: 'src/cart.ts' },
      { test: 'src/widgets/__tests__/button.jsx', source: 'src/widgets/button.tsx' },
      { test: 'test/format.spec.js', source: 'src/format.js' },
      { test: 'test/parse.test.js', source: 'lib/parse.js' },
    ]);
  });

  it('prefers the source with the same extension when two sit side by side', () => {
    const links = linkTestsToSources(['src/app.js', 'src/app.test.ts', 'src/app.ts']);

    expect(links).toEqual([{ test: 'src/app.test.ts', source: 'src/app.ts' }]);
  });

  it('links Python tests in both naming styles', () => {
    const links = linkTestsToSources([
      'src/billing/invoice.py',
      'src/billing/tax.py',
      'tests/conftest.py',
      'tests/test_invoice.py',
      'tests/tax_test.py',
      'tests/test_missing.py',
    ]);

    expect(links).toEqual([
      { test: 'tests/tax_test.py', source: 'src/billing/tax.py' },
      { test: 'tests/test_invoice.py', source: 'src/billing/invoice.py' },
    ]);
  });

  it('links Go tests only within their package directory', () => {
    const links = linkTestsToSources([
      'internal/cart/cart.go',
      'internal/cart/cart_test.go',
      'internal/tax/rate_test.go',
      'pkg/rate.go',
    ]);

    expect(links).toEqual([{ test: 'internal/cart/cart_test.go', source: 'internal/cart/cart.go' }]);
  });

  it('links Java and Kotlin tests to the mirrored main source set', () => {
    const links = linkTestsToSources([
      'legacy/src/main/java/com/acme/Cart.java',
      'src/main/java/com/acme/Cart.java',
      'src/main/kotlin/com/acme/Invoice.kt',
      'src/test/java/com/acme/CartTest.java',
      'src/test/kotlin/com/acme/InvoiceTests.kt',
      'src/test/java/com/acme/GhostTest.java',
    ]);

    expect(links).toEqual([
      { test: 'src/test/java/com/acme/CartTest.java', source: 'src/main/java/com/acme/Cart.java' },
      { test: 'src/test/kotlin/com/acme/InvoiceTests.kt', source: 'src/main/kotlin/com/acme/Invoice.kt' },
    ]);
  });
});
