// Runs in every test file's process before the file: the variables that point sigrelease (and the `temporal`
// CLI) at a server, namespace, site, catalogue, webhook or state folder are removed, so a developer's shell
// (say TEMPORAL_NAMESPACE or SIGRELEASE_WEBHOOK_URL exported for a real deployment) can neither steer a test
// nor let two test files meet in a place of their choosing. Tests that need one of them set it themselves.
// Variables that only locate tools (SIGRELEASE_TEMPORAL_CLI, SIGRELEASE_CHROMIUM, SIGRELEASE_BIN, ...) stay.
import { inject } from 'vitest';
export const STEERING_VARIABLES = [
  'SIGRELEASE_SITE',
  'SIGRELEASE_CATALOGUE',
  'SIGRELEASE_WEBHOOK_URL',
  'SIGRELEASE_STATE_DIR',
  'SIGRELEASE_WORKFLOW_BUNDLE',
] as const;

/** Every TEMPORAL_* variable (address, namespace, TLS, API key, profile, config file) and the ones above. */
export function isSteeringVariable(name: string): boolean {
  return name.startsWith('TEMPORAL_') || (STEERING_VARIABLES as readonly string[]).includes(name);
}

for (const name of Object.keys(process.env)) if (isSteeringVariable(name)) delete process.env[name];

// The integration run's global set-up built the workflow bundle once from the current sources: this file's
// workers use it, and so do the worker processes it starts (they inherit the variable).
const bundle = inject('workflowBundle');
if (bundle) process.env.SIGRELEASE_WORKFLOW_BUNDLE = bundle;
