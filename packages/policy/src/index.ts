export * from './decision.js';
export * from './glob.js';
export * from './model.js';
export * from './load-policies.js';
export * from './evaluate.js';
export * from './pattern-fingerprint.js';
export * from './policy-decider.js';
export * from './policy-store.js';
