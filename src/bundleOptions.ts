// What every workflow bundle must be built with, in one place: the worker's own bundle (src/worker.ts), the
// deployed prebuilt bundle (deploy/bundle-workflows.ts) and the tests' bundles. A bundle without these modules
// still runs, but its activities' metrics lose their sig/release labels.
import path from 'node:path';
import { PROJECT_ROOT } from './root.js';

// The TypeScript sources, also when this module runs from the built dist/: the bundler compiles them itself.
export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

/** Workflow interceptor modules (each exports `interceptors`): the sig/release header on every activity. */
export const WORKFLOW_INTERCEPTOR_MODULES = [path.join(PROJECT_ROOT, 'workflows', 'releaseLabels.ts')];
