// What the list-writer tests share: walks that can be counted and held, and how many signals a writer received.
import type { Client } from '@temporalio/client';
import { publishFileLists, type PublishFileListsInput } from '../../activities/filelists.js';
import type { Hold } from '../operations/fakes.js';

/** Walks counted, the first one parked at `hold`, and the most that ran at once. */
export function countedWalks(hold: Hold) {
  const state = { walks: 0, inFlight: 0, mostAtOnce: 0 };
  const walk = async (input: PublishFileListsInput) => {
    state.walks++;
    state.inFlight++;
    state.mostAtOnce = Math.max(state.mostAtOnce, state.inFlight);
    try {
      if (state.walks === 1) await hold.wait();
      return await publishFileLists(input);
    } finally {
      state.inFlight--;
    }
  };
  return { state, walk };
}

/** Signals the writer has received (signal-with-start's included), read from its history. */
export async function signalsReceived(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
}
