export * from './artifacts.js';
export * from './deployer.js';
export * from './event-log.js';
export * from './forge.js';
export * from './model.js';
export * from './policy.js';
export * from './sandbox.js';
export * from './workspace-storage.js';
