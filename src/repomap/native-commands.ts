import { parse as parseToml } from 'smol-toml';
import {
  type Candidate,
  candidate,
  type Findings,
  firstLevelDirectories,
  inScope,
  isRecord,
  lineOf,
  type Repository,
  scopeOf,
} from './command-candidates.js';
import { readRepositoryText } from './repository-files.js';

/** Directories whose go.mod files are fixtures or vendored copies, not modules to test. */
const NOT_GO_MODULES = /(^|\/)(vendor|testdata|node_modules|_[^/]*|\.[^/]*)\//;

/**
 * Go, Cargo and CMake commands.
 *
 * - Go: every module (`go.mod` at any depth, vendor and testdata left out): `go mod download` (with
 *   the network), `go build ./...`, `go test ./...`, `go vet ./...`.
 * - Cargo (`Cargo.toml` at the root, else in first-level directories): `cargo fetch` (with the
 *   network), `cargo build`, `cargo test`, `cargo clippy`, `cargo fmt --check`, with `--workspace`
 *   (`--all` for fmt) for a `[workspace]`.
 * - CMake (`CMakeLists.txt` at the root): `cmake -S . -B build`, `cmake --build build`, and with
 *   `enable_testing()` or `include(CTest)`, `ctest --test-dir build` after those two.
 */
export async function nativeFindings(repository: Repository): Promise<Findings> {
  const candidates: Candidate[] = [];
  for (const goMod of repository.files.filter(
    (file) => /(^|\/)go\.mod$/.test(file) && !NOT_GO_MODULES.test(file),
  )) {
    candidates.push(...goCandidates(scopeOf(goMod), goMod));
  }
  const cargoScopes = repository.has.has('Cargo.toml')
    ? ['']
    : firstLevelDirectories(repository).filter((scope) => repository.has.has(inScope(scope, 'Cargo.toml')));
  for (const scope of cargoScopes) candidates.push(...(await cargoCandidates(repository, scope)));
  candidates.push(...(await cmakeCandidates(repository)));
  return { candidates, skipped: [] };
}

function goCandidates(scope: string, goMod: string): Candidate[] {
  const made = (kind: Candidate['command']['kind'], args: string[], confidence: number, network = false) =>
    candidate(
      {
        ecosystem: 'go',
        kind,
        argv: network && scope ? ['go', '-C', scope, ...args] : ['go', ...args],
        ...(network ? {} : { cwd: scope, ...(scope ? { rootArgv: ['go', '-C', scope, ...args] } : {}) }),
        declaredIn: goMod,
        line: 1,
        source: 'manifest',
        confidence,
        needsNetwork: network,
      },
      goMod,
    );
  return [
    made('install', ['mod', 'download'], 0.85, true),
    made('build', ['build', './...'], 0.85),
    made('test', ['test', './...'], 0.9),
    made('lint', ['vet', './...'], 0.8),
  ];
}

async function cargoCandidates(repository: Repository, scope: string): Promise<Candidate[]> {
  const manifest = inScope(scope, 'Cargo.toml');
  const text = (await readRepositoryText(repository.root, manifest)) ?? '';
  let parsed: Record<string, unknown> = {};
  try {
    parsed = parseToml(text) as Record<string, unknown>;
  } catch {
    return [];
  }
  const workspace = isRecord(parsed.workspace);
  if (!workspace && !isRecord(parsed.package)) return [];
  const line = lineOf(text, workspace ? /^\[workspace\]/m : /^\[package\]/m);
  const members =
    workspace && isRecord(parsed.workspace) && Array.isArray(parsed.workspace.members)
      ? parsed.workspace.members.length
      : 0;
  const made = (kind: Candidate['command']['kind'], args: string[], confidence: number, network = false) =>
    candidate(
      {
        ecosystem: 'cargo',
        kind,
        argv: network && scope ? ['cargo', ...args, '--manifest-path', manifest] : ['cargo', ...args],
        ...(network
          ? {}
          : { cwd: scope, ...(scope ? { rootArgv: ['cargo', ...args, '--manifest-path', manifest] } : {}) }),
        declaredIn: manifest,
        ...(line ? { line } : {}),
        source: 'manifest',
        confidence,
        needsNetwork: network,
        ...(workspace && kind === 'test' && members
          ? { note: `workspace of ${members} member pattern(s)` }
          : {}),
      },
      `${manifest}${workspace ? ' [workspace]' : ''}`,
    );
  const all = workspace ? ['--workspace'] : [];
  return [
    made('install', ['fetch'], 0.85, true),
    made('build', ['build', ...all], 0.85),
    made('test', ['test', ...all], 0.9),
    made('lint', ['clippy', ...all], 0.8),
    made('format', ['fmt', ...(workspace ? ['--all'] : []), '--check'], 0.8),
  ];
}

async function cmakeCandidates(repository: Repository): Promise<Candidate[]> {
  if (!repository.has.has('CMakeLists.txt')) return [];
  const text = (await readRepositoryText(repository.root, 'CMakeLists.txt')) ?? '';
  const configure = ['cmake', '-S', '.', '-B', 'build'];
  const build = ['cmake', '--build', 'build'];
  const made = (kind: Candidate['command']['kind'], argv: string[], confidence: number, extra: object = {}) =>
    candidate(
      {
        ecosystem: 'cmake',
        kind,
        argv,
        declaredIn: 'CMakeLists.txt',
        source: 'manifest',
        confidence,
        ...extra,
      },
      'CMakeLists.txt',
    );
  const found = [made('build', configure, 0.8), made('build', build, 0.8)];
  const testing = lineOf(text, /^\s*(enable_testing\s*\(|include\s*\(\s*CTest\b)/im);
  if (testing) {
    found.push(
      made('test', ['ctest', '--test-dir', 'build'], 0.8, {
        line: testing,
        prerequisites: [configure, build],
        note: 'after configuring and building into build/',
      }),
    );
  }
  return found;
}
