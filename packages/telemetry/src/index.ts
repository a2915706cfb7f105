export * from './metrics.js';
export * from './log.js';
