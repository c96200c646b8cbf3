// The stages of a release run, in one place with no imports: the workflows, the CLI's checks that run before the
// SDK loads, and the status views all read them here.

export type Stage =
  | 'validating'
  | 'composing'
  | 'staging'
  | 'awaiting-approval'
  | 'waiting-for-production-lock'
  | 'promoting'
  | 'publishing-lists'
  | 'composed'
  | 'promoted'
  | 'published'
  | 'vaulted'
  | 'rejected'
  | 'expired'
  | 'skipped'
  | 'failed'
  | 'cancelled';

/** Every stage a run can be in, in pipeline order. */
export const STAGES: readonly Stage[] = [
  'validating',
  'composing',
  'staging',
  'awaiting-approval',
  'waiting-for-production-lock',
  'promoting',
  'publishing-lists',
  'composed',
  'promoted',
  'published',
  'vaulted',
  'rejected',
  'expired',
  'skipped',
  'failed',
  'cancelled',
];
/** Stages a run ends in. */
export const FINAL_STAGES: readonly Stage[] = ['composed', 'promoted', 'published', 'vaulted', 'rejected', 'expired', 'skipped', 'failed', 'cancelled'];
