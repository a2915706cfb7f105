export * from './facts.js';
export * from './cache/analysis-cache.js';
export * from './cache/async-analysis-cache.js';
export * from './postgres/index.js';
export * from './mysql/index.js';
export * from './analyze.js';
