import { compare } from '#semver-lite';

/** The newest of a list of release versions. */
export function latestRelease(versions) {
  return [...versions].sort(compare).at(-1);
}
