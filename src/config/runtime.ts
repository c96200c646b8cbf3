import { z } from 'zod';
import { isDuration } from '../../workflows/duration.js';
import { ConfigError } from './load.js';
import { describeZodError } from './schema.js';
import type { RuntimeOptions } from '../../workflows/sigRelease.js';

const duration = (what: string) => z.string().refine((v) => isDuration(v, { positive: true }), `${what} must be a duration such as "30s", "10m", "3d"`);

export const runtimeSchema = z.strictObject({
  approval: z.strictObject({ reminderInterval: duration('reminderInterval').optional(), expireAfter: duration('expireAfter').optional() }).optional(),
  timeouts: z
    .strictObject({
      heartbeat: duration('heartbeat').optional(),
      longSync: duration('longSync').optional(),
      retryInitial: duration('retryInitial').optional(),
      maxAttempts: z.number().int().min(1).optional(),
    })
    .optional(),
  hostTaskQueue: z.string().min(1).optional(),
  lock: z.strictObject({ checkEvery: duration('checkEvery').optional() }).optional(),
});

export function checkRuntime(raw: unknown): RuntimeOptions {
  const r = runtimeSchema.safeParse(raw, { reportInput: true });
  if (!r.success) throw new ConfigError(describeZodError('runtime options', r.error));
  return r.data;
}
