import type { EngineeringRequest } from '../domain/request.js';

/** Why a request cannot be worked on as written, and which fields would fix it. */
export interface Ambiguity {
  reason: string;
  /** Request fields to fill in, e.g. `acceptanceCriteria`, `description`. */
  missing: string[];
}

/** Fewer words than this in a title, with no description, says too little to act on. */
const minimumTitleWords = 3;

/**
 * Says whether a request is too vague to start: without acceptance criteria the agent would not
 * know when it is done, and a bare title of a word or two with no description says nothing of
 * what is wrong. Returns `undefined` when the request is clear enough.
 *
 * @example
 * findAmbiguity({ ...request, acceptanceCriteria: [] });
 * // { reason: 'The request has no acceptance criteria: ...', missing: ['acceptanceCriteria'] }
 */
export function findAmbiguity(request: EngineeringRequest): Ambiguity | undefined {
  const reasons: string[] = [];
  const missing: string[] = [];

  if (request.acceptanceCriteria.every((criterion) => criterion.trim().length === 0)) {
    reasons.push(
      'The request has no acceptance criteria, so the agent would not know when it is done. ' +
        'Add an "Acceptance criteria" section with one list item per criterion to the issue, ' +
        'or an `acceptanceCriteria` list to the request file.',
    );
    missing.push('acceptanceCriteria');
  }

  const titleWords = request.title.trim().split(/\s+/).filter(Boolean).length;
  if (request.description.trim().length === 0 && titleWords < minimumTitleWords) {
    reasons.push(
      `The request has no description and its title "${request.title.trim()}" is only ${titleWords} ` +
        `word${titleWords === 1 ? '' : 's'}, which does not say what is wrong or what should change. ` +
        'Describe the problem (what happens, what should happen) in the description.',
    );
    missing.push('description');
  }

  return reasons.length === 0 ? undefined : { reason: reasons.join(' '), missing };
}
