// What every workflow bundle must be built with, in one place: the worker's own bundle (src/worker.ts), the
// deployed prebuilt bundle (deploy/bundle-workflows.ts) and the tests' bundles. A bundle without these modules
// still runs, but its activities' metrics lose their sig/release labels.
import { fileURLToPath } from 'node:url';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Workflow interceptor modules (each exports `interceptors`): the sig/release header on every activity. */
export const WORKFLOW_INTERCEPTOR_MODULES = [fileURLToPath(new URL('../workflows/releaseLabels.ts', import.meta.url))];
