export * from './facts.js';
export * from './cache/analysis-cache.js';
