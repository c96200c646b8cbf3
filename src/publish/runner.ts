// The publish activities' process plumbing now lives where every activity finds it: src/tools/run.ts (the one
// tool runner) and src/activityContext.ts (heartbeats, cancellation). Re-exported here so activities/publish.ts
// keeps its imports while other branches are merged; new code imports from those modules directly.
export { activityContext, Heartbeater, previousHeartbeat, throwIfCancelled } from '../activityContext.js';
export { runTool, type RunToolOptions, type RunToolResult } from '../tools/run.js';
