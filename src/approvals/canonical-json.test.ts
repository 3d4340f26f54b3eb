import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves no whitespace', () => {
    // Act
    const text = canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: 'é' }, A: 'upper first' });
    // Assess
    expect(text).toBe('{"A":"upper first","a":{"c":"é","d":[true,null,"x"]},"b":1}');
  });

  it('gives the same bytes whatever order the keys were written in, and drops undefined', () => {
    // Act / Assess
    expect(canonicalJson({ runId: 'r', approvalId: 'a', gone: undefined })).toBe(
      canonicalJson({ approvalId: 'a', runId: 'r' }),
    );
  });

  it('refuses values JSON cannot carry exactly', () => {
    // Act / Assess
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(InvalidInputError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/cannot hold function/);
  });
});
