// The workflow bundle's entry: deterministic code only.
export { sigRelease } from './sigRelease.js';
export { composeSig } from './compose.js';
export { productionLock } from './productionLock.js';
export { sigVault } from './vault.js';
export { pruneComposes } from './prune.js';
export { fileListWriter } from './fileListWriter.js';
export { pipelineTurn } from './pipelineTurn.js';
