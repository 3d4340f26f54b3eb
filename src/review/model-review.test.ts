import { describe, expect, it } from 'vitest';
import { SecretRedactor } from '../gateway/redact.js';
import { buildReviewRequest } from './model-review.js';
import { reviewInput } from './review-fixtures.test-support.js';

describe('buildReviewRequest', () => {
  it('shows the verification excerpt to the reviewer as untrusted output', () => {
    // Prepare
    const input = reviewInput({
      verification: { argv: ['npm', 'test'], passed: false, excerpt: 'not ok 1 - zero discount\n# fail 1' },
    });

    // Act
    const request = buildReviewRequest(input, [], new SecretRedactor());
    const block = request.messages[0]?.content[0];
    const text = block?.type === 'text' ? block.text : '';

    // Assess
    expect(text).toContain('The test command after the patch failed');
    expect(text).toMatch(
      /<untrusted source="verification-output">[\s\S]*not ok 1 - zero discount[\s\S]*# fail 1/,
    );
  });
});
