import { describe, expect, it } from 'vitest';
import { isValidRefName } from './source-repository.js';

describe('isValidRefName', () => {
  it.each([
    ['refs/heads/main', true],
    ['refs/heads/feature/deep-work_2', true],
    ['refs/heads/café', true],
    ['HEAD', false],
    ['refs/heads/../../config', false],
    ['refs/heads/.hidden', false],
    ['refs/heads/x.lock', false],
    ['refs/heads/x.', false],
    ['refs/heads//x', false],
    ['refs/heads/a b', false],
    ['refs/heads/a\u0001b', false],
    ['refs/heads/a@{1}', false],
    ['refs/heads/a:b', false],
    ['/etc/passwd', false],
  ])('judges %j as %s', (ref, valid) => {
    expect(isValidRefName(ref)).toBe(valid);
  });
});
