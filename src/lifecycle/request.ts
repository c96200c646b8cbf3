// The request fields of stage re-entry and rollback, checked by the one request schema (src/config/schema.ts):
// `from` says where the run enters the pipeline, `composeId` names an earlier compose (a name, never a path),
// `listLevel` the file-list level a lists-only run writes.
import { z } from 'zod';
import { composeIdProblem, ENTRY_STAGES } from './names.js';

export const lifecycleRequestFields = {
  from: z.enum(ENTRY_STAGES, { error: (iss) => `from must be one of ${ENTRY_STAGES.join(", ")}` }).default('compose'),
  composeId: z.string({ error: 'composeId must be a compose name such as "SIG-core-9.7-20261130.101500"' }).optional(),
  listLevel: z.enum(['sig', 'root'], { error: (iss) => `listLevel must be sig or root` }).optional(),
};

interface LifecycleFields {
  from: (typeof ENTRY_STAGES)[number];
  composeId?: string | undefined;
  listLevel?: 'sig' | 'root' | undefined;
  fullRun: boolean;
  dryRun: boolean;
  composeOnly: boolean;
}

/** Combinations that make no sense: each one refused with the reason, naming the value. */
export function lifecycleRequestProblems(r: LifecycleFields, ctx: z.RefinementCtx): void {
  const issue = (message: string, field: string) => ctx.addIssue({ code: 'custom', message, path: [field] });
  if (r.composeId !== undefined) {
    const problem = composeIdProblem(r.composeId);
    if (problem) issue(problem, 'composeId');
    if (r.from !== 'staging') issue(`composeId (a rollback) re-stages an earlier compose: it needs from "staging", got from ${JSON.stringify(r.from)}`, 'composeId');
  }
  if (r.listLevel !== undefined && r.from !== 'lists') issue(`listLevel only applies to from "lists" (republishing the file lists), got from ${JSON.stringify(r.from)}`, 'listLevel');
  if (r.from !== 'compose') {
    for (const flag of ['fullRun', 'dryRun', 'composeOnly'] as const) {
      if (r[flag]) issue(`${flag} asks for a compose, but from ${JSON.stringify(r.from)} skips the compose`, flag);
    }
  }
}
