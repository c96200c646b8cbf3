// What a failure means to the pipeline. Known failures (an activity or the compose child that failed, a
// typed ApplicationFailure, a cancellation) end a release with their reason. Anything else is a bug in our
// own code (a TypeError, a missed case): it must fail only the workflow task, so that the run stays where it
// is until a fixed worker is deployed and then resumes, instead of ending a release that waited days at the
// gate. Pure and free of workflow APIs, so the CLI and the tests use it too.
import { TemporalFailure } from '@temporalio/common';

/** True for errors that no Temporal failure describes: bugs, to be fixed by a deploy rather than a new run. */
export function isUnexpected(e: unknown): boolean {
  if (e instanceof TemporalFailure) return false;
  // Starting the compose child under an ID that is taken: a typed refusal from the server, not a bug.
  return !(e instanceof Error && e.name === 'WorkflowExecutionAlreadyStartedError');
}

export { innermostMessage } from '../src/errors.js';
