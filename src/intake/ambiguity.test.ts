import { describe, expect, it } from 'vitest';
import type { EngineeringRequest } from '../domain/request.js';
import { findAmbiguity } from './ambiguity.js';

const clearRequest: EngineeringRequest = {
  id: 'req-1',
  source: 'file',
  repository: { name: 'billing-service', defaultBranch: 'main' },
  requester: 'ana',
  capability: 'low-risk-bugfix',
  title: 'Invoice total is wrong when the discount is zero',
  description: 'invoiceTotal() returns NaN when the discount is 0.',
  acceptanceCriteria: ['an invoice with a zero discount totals the sum of its lines'],
  constraints: [],
  attachments: [],
  receivedAt: '2026-11-21T10:00:00.000Z',
};

describe('findAmbiguity', () => {
  it('accepts a request with a description and acceptance criteria', () => {
    // Act / Assess
    expect(findAmbiguity(clearRequest)).toBeUndefined();
  });

  it('flags a request without acceptance criteria and says how to fix it', () => {
    // Prepare
    const request = { ...clearRequest, acceptanceCriteria: [] };

    // Act
    const ambiguity = findAmbiguity(request);

    // Assess
    expect(ambiguity?.missing).toEqual(['acceptanceCriteria']);
    expect(ambiguity?.reason).toContain('would not know when it is done');
    expect(ambiguity?.reason).toContain('"Acceptance criteria" section');
    expect(ambiguity?.reason).toContain('`acceptanceCriteria` list');
  });

  it('flags a short title with a blank description', () => {
    // Prepare
    const request = { ...clearRequest, title: 'Fix  billing', description: '  \n\t ' };

    // Act
    const ambiguity = findAmbiguity(request);

    // Assess
    expect(ambiguity?.missing).toEqual(['description']);
    expect(ambiguity?.reason).toContain('"Fix  billing" is only 2 words');
  });

  it('accepts a blank description when the title says enough', () => {
    // Prepare
    const request = { ...clearRequest, description: '' };

    // Act / Assess
    expect(findAmbiguity(request)).toBeUndefined();
  });

  it('reports both problems at once', () => {
    // Prepare
    const request = { ...clearRequest, title: 'Bug', description: '', acceptanceCriteria: [] };

    // Act
    const ambiguity = findAmbiguity(request);

    // Assess
    expect(ambiguity?.missing).toEqual(['acceptanceCriteria', 'description']);
    expect(ambiguity?.reason).toContain('only 1 word,');
  });
});
