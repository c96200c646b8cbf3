// A workflow that is not sigRelease starting the real compose child with a plan of its own: what a client could do
// if it got past composeSig's parent check. The compose activities must refuse it on their own.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ComposeInput } from '../../../workflows/messages.js';

export { composeSig } from '../../../workflows/compose.js';

export async function hostileParent(input: ComposeInput): Promise<unknown> {
  return executeChild('composeSig', { args: [input], workflowId: `${workflowInfo().workflowId}-compose` });
}
