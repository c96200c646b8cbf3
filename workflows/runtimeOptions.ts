// The run's operational knobs (`runtime` in the workflow input): not part of the release request, and as
// untrusted as the rest of the input (anyone can type them into `temporal workflow start --input`). Checked
// at the first step, so a bad value is refused with its name before anything is composed.
import { ApplicationFailure } from '@temporalio/common';
import { isDuration } from './duration.js';
import type { ActivityTimeouts } from './messages.js';

/** Operational knobs that are not part of the release request (tests shorten every duration). */
export interface RuntimeOptions {
  approval?: { reminderInterval?: string; expireAfter?: string };
  timeouts?: ActivityTimeouts;
  hostTaskQueue?: string;
  /** How often a run waiting for the production lock makes sure the lock still has its request. */
  lock?: { checkEvery?: string };
}

const SHAPE: Record<string, Record<string, 'duration' | 'count'> | 'string'> = {
  approval: { reminderInterval: 'duration', expireAfter: 'duration' },
  timeouts: { heartbeat: 'duration', longSync: 'duration', retryInitial: 'duration', maxAttempts: 'count' },
  hostTaskQueue: 'string',
  lock: { checkEvery: 'duration' },
};

/** Why `runtime` is not a RuntimeOptions, naming the key and the value; null when it is one. */
export function runtimeOptionsProblem(runtime: unknown): string | null {
  if (runtime === undefined) return null;
  if (!isRecord(runtime)) return `runtime must be an object, got ${JSON.stringify(runtime)}`;
  for (const [key, value] of Object.entries(runtime)) {
    const kind = SHAPE[key];
    if (kind === undefined) return `unknown runtime option ${JSON.stringify(key)}; known: ${Object.keys(SHAPE).join(', ')}`;
    if (kind === 'string') {
      if (typeof value !== 'string' || value === '') return `runtime.${key} must be a non-empty string, got ${JSON.stringify(value)}`;
      continue;
    }
    if (!isRecord(value)) return `runtime.${key} must be an object, got ${JSON.stringify(value)}`;
    for (const [sub, v] of Object.entries(value)) {
      const want = kind[sub];
      const name = `runtime.${key}.${sub}`;
      if (want === undefined) return `unknown option ${name}; known: ${Object.keys(kind).join(', ')}`;
      if (want === 'count' && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) return `${name} must be a whole number of 1 or more, got ${JSON.stringify(v)}`;
      if (want === 'duration' && !isDuration(v, { positive: true })) return `${name} must be a duration such as "30s", "10m", "3d", got ${JSON.stringify(v)}`;
    }
  }
  return null;
}

/** `runtime` as RuntimeOptions, or a BadRequest failure that says which value is wrong. */
export function checkRuntimeOptions(runtime: unknown): RuntimeOptions {
  const problem = runtimeOptionsProblem(runtime);
  if (problem) throw ApplicationFailure.create({ type: 'BadRequest', nonRetryable: true, message: problem });
  return (runtime ?? {}) as RuntimeOptions;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
