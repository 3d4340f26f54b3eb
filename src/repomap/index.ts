export {
  AGENT_CONTEXT_EXCERPT_LENGTH,
  AGENT_CONTEXT_MAX_DEPTH,
  AGENT_CONTEXT_NAMES,
  findAgentContextFiles,
} from './agent-context.js';
export { CODEOWNERS_LOCATIONS, ownersOf, parseCodeOwners, readCodeOwners } from './code-owners.js';
export { type CommandMap, detectRepositoryCommands, installArgv, mapRepositoryCommands } from './commands.js';
export { countLanguages, languageOf } from './languages.js';
export { type MapRepositoryOptions, mapRepository } from './map-repository.js';
export { renderRepositoryMap } from './render.js';
export { listRepositoryFiles, type RepositoryFiles, SKIPPED_DIRECTORIES } from './repository-files.js';
export { findSensitivePaths, type SensitivePathRule } from './sensitive-paths.js';
export { findTestFolders } from './test-folders.js';
export { linkTestsToSources } from './test-links.js';
