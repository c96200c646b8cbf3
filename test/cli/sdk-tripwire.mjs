// Loaded with `node --import` (through NODE_OPTIONS) by no-sdk-before-refusal.test.ts: any import of a Temporal SDK
// package fails with a marker the test looks for, so a command that loads the SDK before refusing is caught.
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@temporalio/')) throw new Error('SDK-TRIPWIRE: ' + specifier + ' was imported');
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
