export * from './decision.js';
export * from './basic-decider.js';
